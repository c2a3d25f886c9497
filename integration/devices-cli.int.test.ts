/**
 * `phonehome devices` against simulated phones through the real adb server: two phones with their
 * facts and matched profiles, and an unauthorized one shown as such with advice.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SimState } from '../sim/sim-state.js';
import { gate } from '../testing/gate.js';
import { type CliLab, simDownCli, simUpCli } from './cli-lab.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const CLI = 'dist/harness/cli/main.js';

interface Row {
  serial: string;
  state: string;
  manufacturer?: string;
  model?: string;
  android?: string;
  rom?: string;
  ip?: string;
  profile?: string;
  ready: boolean;
  why: string;
}

const group = gate(process.getuid?.() === 0 ? false : 'needs root (network namespaces)');

group.describe('phonehome devices', () => {
  const labs: CliLab[] = [];
  let adbPort = 0;

  async function simUp(args: string[]): Promise<SimState> {
    const lab = await simUpCli(adbPort, args);
    labs.push(lab);
    return lab.state;
  }

  group.before(async () => {
    adbPort = await freePort();
  });

  group.after(async () => {
    for (const lab of labs) await simDownCli(lab);
    await run('adb', ['-P', String(adbPort), 'kill-server']).catch(() => {});
  });

  group.it(
    'shows two simulated phones with their facts and profiles, and an unauthorized one with advice',
    async () => {
      const good = await simUp(['--profile', 'xiaomi-redmi-note-13', 'pixel-7']);
      const locked = await simUp(['--profile', 'pixel-7', '--unauthorized']);
      const { stdout } = await run(
        process.execPath,
        [CLI, 'devices', '--json', '--adb-port', String(adbPort)],
        {
          timeout: 60_000,
        },
      );
      const doc = JSON.parse(stdout) as { formatVersion: number; devices: Row[] };
      assert.equal(doc.formatVersion, 1);
      const bySerial = new Map(doc.devices.map((d) => [d.serial, d]));
      const xiaomi = bySerial.get(good.phones.find((p) => p.profile === 'xiaomi-redmi-note-13')!.adbSerial);
      const pixel = bySerial.get(good.phones.find((p) => p.profile === 'pixel-7')!.adbSerial);
      assert.equal(xiaomi?.manufacturer, 'Xiaomi');
      assert.equal(xiaomi?.profile, 'xiaomi-miui-global');
      assert.equal(xiaomi?.ready, true);
      assert.equal(xiaomi?.ip, good.phones.find((p) => p.profile === 'xiaomi-redmi-note-13')!.ip);
      assert.equal(pixel?.profile, 'pixel-stock');
      assert.equal(pixel?.rom, 'Pixel stock');
      assert.equal(pixel?.android, '14');
      const unauthorized = bySerial.get(locked.phones[0]!.adbSerial);
      assert.equal(unauthorized?.state, 'unauthorized');
      assert.equal(unauthorized?.ready, false);
      assert.match(unauthorized?.why ?? '', /Allow USB debugging/);

      const table = (
        await run(process.execPath, [CLI, 'devices', '--adb-port', String(adbPort)], { timeout: 60_000 })
      ).stdout;
      assert.match(table, /SERIAL\s+STATE\s+MODEL/);
      assert.match(table, /xiaomi-miui-global/);
      assert.match(table, /unauthorized: unlock the phone/);
    },
  );
});
