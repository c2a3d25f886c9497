/**
 * The fault campaign: a two-phone suite on simulated phones, through the real adb server and real
 * tcpdump, with one fault put on one phone (the pixel) mid-run. Each test checks that the run is broken
 * with a reason naming the fault, that what it recorded so far is on disk, and that the other phone
 * (the Xiaomi) passed as if nothing happened.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Mocha from 'mocha';
import { TcpdumpCapture } from '../harness/capture/tcpdump-capture.js';
import { ensureAdbServer } from '../harness/device/adb-server.js';
import { AdbDeviceControl } from '../harness/device/device-control.js';
import { loadProfiles } from '../harness/device/profiles.js';
import type { OpenGeo } from '../harness/geo/open-locator.js';
import { appiumUiProvider } from '../harness/lab/ui-provider.js';
import type { RunResult } from '../harness/record/run-record.js';
import { pathPart } from '../harness/run/run-one.js';
import type { Scenario } from '../harness/run/scenario.js';
import { runSuite, type SuiteOptions } from '../harness/run/suite.js';
import { gate } from '../testing/gate.js';
import { simGeo } from '../testing/sim-geo.js';
import { type CliLab, simDownCli, simUpCli } from './cli-lab.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const CLI = 'dist/harness/cli/main.js';
const isRoot = process.getuid?.() === 0;

/** The phone that gets the fault, and the one that must not notice. */
const TARGET = 'pixel-7';
const OTHER = 'xiaomi-redmi-note-13';

/** Judged by the idle allowlists; the fault comes during "idle". */
function faultScenario(idleMs: number, extra: Scenario['steps'] = []): Scenario {
  return {
    name: 'fault',
    description: 'A short idle run that a fault interrupts on one phone.',
    needs: [],
    prepare: [],
    allowlist: 'idle',
    steps: [
      // Every network join checks for a captive portal: the Xiaomi's allowlist expects to see it.
      { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
      { kind: 'wait', name: 'settle', ms: 1_000 },
      ...extra,
      { kind: 'wait', name: 'idle', ms: idleMs },
    ],
  };
}

/** The PID of the process listening on 127.0.0.1:PORT (ss from iproute2). */
async function listenerPid(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`]);
  const pid = /pid=(\d+)/.exec(stdout)?.[1];
  assert.ok(pid, `a process listens on ${port}: ${stdout}`);
  return Number(pid);
}

/** A mocha reporter that prints nothing: the test reads the results, not mocha's lines. */
const quiet: SuiteOptions['mochaReporter'] = () => ({
  reporter: Mocha.reporters.Base as unknown as Mocha.ReporterConstructor,
  reporterOptions: {},
});

const group = gate(isRoot ? false : 'needs root (network namespaces)');

group.describe('fault campaign: one phone of two gets a fault mid-run', () => {
  let lab: CliLab | undefined;
  let out: string;
  let geo: OpenGeo | undefined;

  group.before(async () => {
    out = await mkdtemp(join(tmpdir(), 'phonehome-faults-'));
    geo = await simGeo();
  });

  group.after(async () => {
    await simDownCli(lab);
    geo?.close();
    await rm(out, { recursive: true, force: true });
  });

  /** A fresh lab for each test (a fault may leave its phone unusable): the other phone first, the target second. */
  async function freshLab(profiles = [OTHER, TARGET]): Promise<CliLab> {
    await simDownCli(lab);
    lab = await simUpCli(await freePort(), ['--profile', ...profiles, '--speed', '60']);
    return lab;
  }

  function entry(l: CliLab, which: 'target' | 'other') {
    const p = l.state.phones[which === 'target' ? 1 : 0];
    assert.ok(p, `the ${which} phone in the lab`);
    return p;
  }

  /**
   * Runs the scenario on both phones; `fault` is called once when the target phone begins the step
   * named `at`. Resolves with both phones' results.
   */
  async function twoPhones(
    l: CliLab,
    scenario: Scenario,
    at: string,
    fault: () => Promise<unknown> | unknown,
    extra: Partial<SuiteOptions> & { speedOf?: (serial: string) => number } = {},
  ): Promise<{ target: RunResult; other: RunResult; runId: string; injected: Promise<unknown> }> {
    const { speedOf, onEvent, ...suiteExtra } = extra;
    // As the lab makes it: a local server that goes away is started again.
    const client = await ensureAdbServer({ host: '127.0.0.1', port: l.adbPort, bin: 'adb' });
    const target = entry(l, 'target');
    let injected: Promise<unknown> | undefined;
    const runId = `f${Date.now().toString(36)}`;
    const summary = await runSuite({
      deviceFor: (serial) => new AdbDeviceControl(client.device(serial)),
      phones: l.state.phones.map((p) => ({
        serial: p.adbSerial,
        captureInterface: p.captureInterface,
        speed: speedOf?.(p.adbSerial) ?? 1,
      })),
      profiles: await loadProfiles('devices'),
      locatorFor: (profile) => geo!.locatorFor(profile.maker),
      scenarios: [scenario],
      captureFor: (phone) => new TcpdumpCapture({ interface: phone.captureInterface! }),
      outDir: out,
      runId,
      mochaReporter: quiet,
      onEvent: (e) => {
        onEvent?.(e);
        if (injected || e.type !== 'progress' || e.serial !== target.adbSerial) return;
        if (e.line === `step ${at}`) injected = (async () => fault())();
      },
      ...suiteExtra,
    });
    assert.ok(injected, `the fault was put on the target during "${at}"`);
    await injected;
    const find = (serial: string) => {
      const r = summary.results.find((x) => x.serial === serial);
      assert.ok(r, `a result for ${serial}: ${JSON.stringify(summary)}`);
      return r;
    };
    return { target: find(target.adbSerial), other: find(entry(l, 'other').adbSerial), runId, injected };
  }

  /** The target broke with the fault named; its record so far is on disk; the other phone passed. */
  async function assertContained(
    r: { target: RunResult; other: RunResult },
    reason: RegExp,
    kind: string,
    files = ['capture.pcap', 'device.json', 'run.log', 'result.json'],
  ) {
    assert.equal(r.target.outcome, 'broken', r.target.reason);
    assert.match(r.target.reason, reason);
    assert.equal(r.target.broken?.kind, kind, JSON.stringify(r.target.broken));
    for (const f of files) assert.ok(existsSync(join(r.target.dir, f)), `${f} kept`);
    if (files.includes('result.json')) {
      const saved = JSON.parse(await readFile(join(r.target.dir, 'result.json'), 'utf8'));
      assert.equal(saved.outcome, 'broken');
      assert.deepEqual(saved.broken, r.target.broken);
    }
    assert.equal(r.other.outcome, 'passed', `the other phone: ${r.other.reason}`);
    assert.equal(r.other.canaries.startSeen && r.other.canaries.endSeen, true);
  }

  group.it(
    'phone unplugged and plugged back: waited for, its scenario tried again and passed',
    async (ctx) => {
      const l = await freshLab();
      const t = entry(l, 'target');
      const sim = (op: 'unplug' | 'plug') =>
        run(process.execPath, [CLI, 'sim', op, t.adbSerial, '--state-dir', l.dir]);
      // Back on the cable once the run noticed and waits for it, as a person re-seating it.
      let plugged: Promise<unknown> | undefined;
      const r = await twoPhones(l, faultScenario(6_000), 'idle', () => sim('unplug'), {
        retries: 1,
        reconnectWaitMs: 30_000,
        onEvent: (e) => {
          if (
            !plugged &&
            e.type === 'progress' &&
            e.serial === t.adbSerial &&
            e.line.startsWith('phone lost: waiting')
          )
            plugged = sleep(2_000).then(() => sim('plug'));
        },
      });
      assert.ok(plugged, 'the run waited for the phone');
      await plugged;
      assert.equal(r.target.outcome, 'passed', r.target.reason);
      const [first] = r.target.earlierAttempts ?? [];
      assert.ok(first, JSON.stringify(r.target.earlierAttempts));
      assert.equal(first.attempt, 1);
      assert.equal(first.kind, 'device-lost');
      assert.match(first.reason, /^phone lost: /);
      assert.match(first.phoneReturn ?? '', /^back after \d+\.\d s/);
      ctx.diagnostic(`the target came ${first.phoneReturn}; first attempt: ${first.reason}`);
      // The broken attempt's folder kept beside the passing one, its record saying what broke.
      assert.equal(first.dir, `${r.target.dir}.attempt-1`);
      const kept = JSON.parse(await readFile(join(first.dir, 'result.json'), 'utf8'));
      assert.equal(kept.outcome, 'broken');
      assert.equal(kept.broken.kind, 'device-lost');
      assert.ok(existsSync(join(first.dir, 'capture.pcap')));
      const saved = JSON.parse(await readFile(join(r.target.dir, 'result.json'), 'utf8'));
      assert.deepEqual(saved.earlierAttempts, r.target.earlierAttempts);
      assert.equal(r.other.outcome, 'passed', `the other phone: ${r.other.reason}`);
      assert.equal(r.other.earlierAttempts, undefined, 'the other phone ran once');
    },
  );

  group.it('phone unplugged mid-capture for good: broken, "phone lost", after waiting for it', async () => {
    const l = await freshLab();
    const t = entry(l, 'target');
    const r = await twoPhones(
      l,
      faultScenario(6_000),
      'idle',
      () => run(process.execPath, [CLI, 'sim', 'unplug', t.adbSerial, '--state-dir', l.dir]),
      { retries: 1, reconnectWaitMs: 3_000 },
    );
    await assertContained(
      r,
      /^phone lost: .*; it did not come back within 3 s \((not listed|listed as \w+)/,
      'device-lost',
    );
    assert.equal(r.target.earlierAttempts, undefined, 'not tried again');
    const saved = JSON.parse(await readFile(join(r.target.dir, 'result.json'), 'utf8'));
    assert.match(saved.reason, /did not come back within 3 s/);
  });

  group.it('phone rebooting mid-scenario: broken, "the phone rebooted during the run"', async () => {
    const l = await freshLab();
    const t = entry(l, 'target');
    const r = await twoPhones(l, faultScenario(8_000), 'idle', () =>
      run('adb', ['-P', String(l.adbPort), '-s', t.adbSerial, 'reboot']),
    );
    await assertContained(r, /rebooted during the run/, 'device-lost');
  });

  group.it('capture interface removed: broken, naming the interface', async () => {
    const l = await freshLab();
    const t = entry(l, 'target');
    const r = await twoPhones(l, faultScenario(6_000), 'idle', () =>
      run('ip', ['link', 'del', t.captureInterface]),
    );
    await assertContained(
      r,
      new RegExp(`^capture not working: the capture interface ${t.captureInterface} was removed`),
      'capture',
    );
  });

  group.it(
    'adb server killed during a command: broken, naming the server; it is started again for the other phone',
    async () => {
      const l = await freshLab();
      // The other phone's waits are five times longer: its adb commands come after the server is back.
      const slow = entry(l, 'other').adbSerial;
      const r = await twoPhones(
        l,
        // Three seconds of wall time on the lab's clock (speed 60): the shell's sleep counts phone time.
        faultScenario(1_000, [{ kind: 'adb', name: 'busy', command: 'sleep 180', expectExit: 0 }]),
        'busy',
        async () => {
          await sleep(500);
          const pid = await listenerPid(l.adbPort);
          process.kill(pid, 'SIGKILL');
        },
        {
          speedOf: (serial) => (serial === slow ? 0.2 : 1),
        },
      );
      await assertContained(
        r,
        new RegExp(
          `^infrastructure error: the adb server 127\\.0\\.0\\.1:${l.adbPort} went away during: sleep 180; it was started again`,
        ),
        'infrastructure',
      );
    },
  );

  group.it(
    'Appium killed mid-step: broken, naming Appium; it is started again for the other phone',
    async () => {
      // Two Xiaomis: their profile turns analytics off through the Settings screens, a UI action of
      // several taps.
      const l = await freshLab([OTHER, OTHER]);
      const slow = entry(l, 'other').adbSerial;
      const ac = new AbortController();
      const ui = await appiumUiProvider(
        { local: {} },
        { host: '127.0.0.1', port: l.adbPort, bin: 'adb' },
        out,
        ac.signal,
      );
      // The fault must land while one of the target's calls is in Appium: a kill between two calls is
      // survived (the next call starts Appium again). With window animations on and a transition scale
      // of 10, each of the target's taps and key presses waits 3 s for its screen to settle.
      const target = entry(l, 'target').adbSerial;
      await run('adb', [
        '-P',
        String(l.adbPort),
        '-s',
        target,
        'shell',
        'settings put global transition_animation_scale 10',
      ]);
      const uiFor: NonNullable<SuiteOptions['uiFor']> = (phone, facts, profile) =>
        ui.uiFor(
          phone,
          facts,
          phone.serial === target
            ? { ...profile, appium: { ...profile.appium, 'appium:disableWindowAnimation': false } }
            : profile,
        );
      try {
        const r = await twoPhones(
          l,
          faultScenario(1_000, [{ kind: 'action', name: 'opt out', action: 'analytics.optOut' }]),
          'opt out',
          async () => {
            await sleep(500);
            const pid = ui.appiumPid();
            assert.ok(pid, 'Appium runs');
            process.kill(pid, 'SIGKILL');
          },
          { speedOf: (serial) => (serial === slow ? 0.2 : 1), uiFor },
        );
        await assertContained(r, /^step "opt out" failed: .*Appium.*killed by SIGKILL/, 'step');
        const otherStep = r.other.phases.find((p) => p.name === 'opt out');
        assert.equal(otherStep?.provider, 'ui', 'the other phone opted out through the restarted Appium');
      } finally {
        await ui.close();
        ac.abort();
      }
    },
  );

  group.it('disk full while writing the capture (a small tmpfs): broken, "no space left"', async () => {
    const l = await freshLab();
    const t = entry(l, 'target');
    const runId = `f${Date.now().toString(36)}`;
    // The target's run folder is a 1 MiB tmpfs, filled up once the capture runs.
    const dir = join(out, 'runs', pathPart(runId), pathPart(t.adbSerial), 'fault');
    await mkdir(dir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'phonehome-test-full', dir]);
    const fill = async () => {
      const f = await open(join(dir, 'filler'), 'w');
      try {
        for (;;) await f.write(Buffer.alloc(4096));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        await f.close().catch(() => undefined);
      }
    };
    try {
      // The disk fills during "settle"; joining Wi-Fi again after it makes several kB of traffic (TLS
      // handshakes with certificates), more than the slack in the capture file's last tmpfs page.
      const rejoin = { kind: 'action' as const, name: 'rejoin', action: 'wifi.rejoin' };
      const r = await twoPhones(l, faultScenario(4_000, [rejoin]), 'settle', fill, { runId });
      await assertContained(r, /no space left on the device/i, 'capture', ['capture.pcap']);
    } finally {
      await run('umount', [dir]);
    }
  });
});
