/**
 * A USB phone's adb serial is its hardware serial, an identifier: a suite names it by its masked
 * label everywhere it writes. No USB phone exists here, so the suite is given a simulated phone under
 * a hardware-style serial (the pipeline reaches it at its real adb address): every file the suite
 * writes (run folders, Allure results) and every event it emits is read for the serial.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpdumpCapture } from '../harness/capture/tcpdump-capture.js';
import { ensureAdbServer } from '../harness/device/adb-server.js';
import { AdbDeviceControl } from '../harness/device/device-control.js';
import { loadProfiles } from '../harness/device/profiles.js';
import type { OpenGeo } from '../harness/geo/open-locator.js';
import { fingerprintKey, phoneLabel } from '../harness/identifiers/mask.js';
import { allureReporting } from '../harness/lab/allure-reporting.js';
import { runSuite, type SuiteEvent } from '../harness/run/suite.js';
import { gate } from '../testing/gate.js';
import { simGeo } from '../testing/sim-geo.js';
import { type CliLab, simDownCli, simUpCli } from './cli-lab.js';
import { freePort } from './free-port.js';

const SERIAL = 'R58N12ABCDE';

/** Every file under dir, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

const group = gate(process.getuid?.() === 0 ? false : 'needs root (network namespaces)');

group.describe('a phone on USB is named by its masked serial', () => {
  let lab: CliLab | undefined;
  let out: string;
  let geo: OpenGeo | undefined;

  group.before(async () => {
    out = await mkdtemp(join(tmpdir(), 'phonehome-label-'));
    geo = await simGeo();
    lab = await simUpCli(await freePort(), ['--profile', 'pixel-7', '--speed', '60']);
  });

  group.after(async () => {
    await simDownCli(lab);
    geo?.close();
    await rm(out, { recursive: true, force: true });
  });

  group.it('in run folders, result.json, run.log, Allure results and the events', async () => {
    const phone = lab!.state.phones[0]!;
    const client = await ensureAdbServer({ host: '127.0.0.1', port: lab!.adbPort, bin: 'adb' });
    const events: SuiteEvent[] = [];
    const reporting = allureReporting(join(out, 'allure-results'), false);
    const summary = await runSuite({
      // The hardware-style serial stands for the simulated phone's adb address.
      deviceFor: (serial) => {
        assert.equal(serial, SERIAL);
        return new AdbDeviceControl(client.device(phone.adbSerial));
      },
      phones: [{ serial: SERIAL, captureInterface: phone.captureInterface, speed: 60 }],
      profiles: await loadProfiles('devices'),
      locatorFor: (profile) => geo!.locatorFor(profile.maker),
      scenarios: [
        {
          name: 'label',
          description: 'A short idle run.',
          needs: [],
          prepare: [],
          allowlist: 'idle',
          steps: [
            { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
            { kind: 'wait', name: 'idle', ms: 2_000 },
          ],
        },
      ],
      captureFor: (p) => new TcpdumpCapture({ interface: p.captureInterface! }),
      outDir: out,
      runId: `l${Date.now().toString(36)}`,
      mochaReporter: reporting.mochaReporter,
      sinks: reporting.sinks,
      onEvent: (e) => events.push(e),
    });
    const label = phoneLabel(SERIAL, fingerprintKey());
    assert.equal(summary.results.length, 1, JSON.stringify(summary));
    const r = summary.results[0]!;
    assert.equal(r.outcome, 'passed', r.reason);
    assert.equal(r.serial, label);
    assert.ok(r.dir.includes(label.replace(/[^A-Za-z0-9._-]+/g, '_')), r.dir);
    assert.ok(events.length > 3 && events.every((e) => e.serial === label));
    const files = await filesUnder(out);
    assert.ok(files.some((f) => f.endsWith('result.json')) && files.some((f) => f.endsWith('-result.json')));
    for (const f of [...files, ...files.map((x) => x.slice(out.length))]) assert.ok(!f.includes(SERIAL), f);
    for (const f of files) {
      if (f.endsWith('.pcap')) continue; // the evidence itself, as recorded
      const text = (await readFile(f)).toString('latin1');
      assert.ok(!text.includes(SERIAL), `${f} holds the serial`);
    }
  });
});
