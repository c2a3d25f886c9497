/**
 * Two phonehome processes asked for the same phone (two farm jobs on one host, or a person running by
 * hand beside the nightly): `phonehome run --sim` runs a simulated Pixel; meanwhile `phonehome run
 * --device` asks for that phone through the same adb server, once without waiting (refused at once,
 * naming the first's pid) and once with --wait-for-phones 3 (refused after its wait). Waiting until
 * the phone is let go is tested with real processes in harness/lab/phone-lock.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gate } from '../testing/gate.js';
import { type CliRun, phonehomeProcess, putLabsAway } from './cli-process.js';
import { freePort } from './free-port.js';

const _exec = promisify(execFile);
const group = gate(process.getuid?.() === 0 ? false : 'needs root (network namespaces, capture)');

group.describe('one phone, three phonehome processes', () => {
  let tmp: string;
  let first: Promise<CliRun> | undefined;

  group.before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'phonehome-lock-'));
  });
  group.after(async () => {
    await putLabsAway([(await first)?.out]);
    await rm(tmp, { recursive: true, force: true });
  });

  group.it(
    'the first runs; one asking for its phone meanwhile is refused, one that waits gives up after its wait',
    async () => {
      const port = String(await freePort());
      let serial!: (s: string) => void;
      const capturing = new Promise<string>((r) => {
        serial = r;
      });
      first = phonehomeProcess(
        [
          'run',
          '--sim',
          'pixel-7',
          '--speed',
          '120',
          '--scenario',
          'idle',
          '--no-ui',
          '--no-history',
          '--plain',
        ].concat(['--adb-port', port, '--out', join(tmp, 'first')]),
        (text) => {
          const m = /^\[(127\.0\.0\.1:\d+)\] idle: capture: tcpdump started/m.exec(text);
          if (m) serial(m[1]!);
        },
      );
      const phone = await Promise.race([
        capturing,
        first.then((r) => assert.fail(`the first run ended early:\n${r.out}`)),
      ]);
      // The same phone, by its serial, through the same adb server: as a second farm job or a person would.
      const again = (extra: string[]) =>
        phonehomeProcess(
          ['run', '--device', phone, '--adb-port', port, '--scenario', 'idle', '--no-ui', '--plain'].concat([
            '--out',
            join(tmp, `again${extra.length}`),
            ...extra,
          ]),
        );
      const t0 = Date.now();
      const [refused, waited] = await Promise.all([again([]), again(['--wait-for-phones', '3'])]);
      const one = await first;
      assert.equal(one.code, 0, one.out);
      const busy = new RegExp(
        `phone ${phone.replace(/\./g, '\\.')} is busy: phonehome \\(pid ${one.pid} on [^)]+\\) has had it since 20\\d\\d-`,
      );
      assert.equal(refused.code, 2, refused.out);
      assert.match(refused.out, busy);
      assert.ok(refused.ended < one.ended, 'refused at once, while the first still ran');
      assert.equal(waited.code, 2, waited.out);
      assert.match(waited.out, busy);
      assert.match(waited.out, /\(waited [34] s\)/);
      assert.ok(waited.ended - t0 >= 2500, `gave up after ${waited.ended - t0} ms`);
      // Neither touched the phone: the first run's capture and verdict are its own.
      assert.match(one.out, /idle: passed/);
    },
  );
});
