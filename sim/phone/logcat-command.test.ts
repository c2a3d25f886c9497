import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

// adbkit's own binary logcat reader (a dependency of @devicefarmer/adbkit), as openLogcat uses it.
interface LogcatEntry {
  date: Date;
  pid: number;
  tid: number;
  priority: number;
  tag: string;
  message: string;
}
const Logcat = createRequire(import.meta.url)('@devicefarmer/adbkit-logcat') as {
  readStream(s: NodeJS.ReadableStream, o: { fixLineFeeds: boolean }): NodeJS.EventEmitter & { end(): void };
};

/** Waits (up to 5 s) until cond holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

// -v threadtime: date time pid tid priority tag: message
const THREADTIME = /^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [VDIWEF] [^:]+: .*$/;

test('logcat -d -v threadtime prints the boot lines in the real layout', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'logcat -d -v threadtime');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '--------- beginning of main');
  for (const l of lines.slice(1)) assert.match(l, THREADTIME);
  assert.ok(lines.some((l) => / I ActivityManager: System now ready$/.test(l)));
});

test('logcat -c clears; log -t TAG writes; filterspecs and -s select', async () => {
  const p = await makePhone();
  await runShell(p, 'logcat -c');
  assert.equal((await runShell(p, 'logcat -d')).stdout, '');
  await runShell(p, 'log -t PhoneHome marker one; log -p e -t Other boom');
  const only = (await runShell(p, 'logcat -d -s PhoneHome')).stdout;
  assert.match(only, /I PhoneHome: marker one\n$/);
  assert.doesNotMatch(only, /boom/);
  const errors = (await runShell(p, "logcat -d '*:E'")).stdout;
  assert.match(errors, /E Other {3}: boom/);
  assert.doesNotMatch(errors, /marker/);
  assert.equal(
    (await runShell(p, 'logcat -d -v brief PhoneHome:I *:S')).stdout.trim().split('\n').at(-1),
    `I/PhoneHome(20000): marker one`,
  );
});

test("adbkit's binary form (echo && logcat -B *:I) parses with adbkit-logcat and streams new entries", async () => {
  const p = await makePhone();
  const ac = new AbortController();
  const stdout = new PassThrough();
  const entries: LogcatEntry[] = [];
  const shell = p.shell('echo && logcat -B *:I 2>/dev/null', {
    stdin: new PassThrough(),
    stdout,
    stderr: new PassThrough(),
    signal: ac.signal,
    pty: false,
  });
  // adbkit drops the leading newline (it detects the line ending from it) and hands the rest to the reader.
  const body = new PassThrough();
  let first = true;
  stdout.on('data', (d: Buffer) => {
    if (first) {
      assert.equal(d[0], 0x0a);
      d = d.subarray(1);
      first = false;
    }
    body.write(d);
  });
  const reader = Logcat.readStream(body, { fixLineFeeds: false });
  reader.on('entry', (e: LogcatEntry) => entries.push(e));
  await until(() => entries.length > 0);
  const before = entries.length;
  assert.ok(before > 0, 'the backlog arrives');
  assert.ok(entries.every((e) => e.priority >= 4));
  await runShell(p, 'am start -n com.android.settings/.Settings');
  await until(() => entries.slice(before).some((e) => e.tag === 'ActivityTaskManager'));
  const started = entries.slice(before).find((e) => e.tag === 'ActivityTaskManager');
  assert.ok(started, 'a new entry streams while logcat runs');
  assert.match(started.message, /^START u0 \{cmp=com\.android\.settings\/\.Settings\} from uid 2000$/);
  assert.ok(Math.abs(started.date.getTime() - Date.now()) < 5000);
  ac.abort();
  assert.equal(await shell, 0);
});

test('logcat streams until the client goes away and -t N keeps the last N', async () => {
  const p = await makePhone();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const t0 = Date.now();
  const r = await runShell(p, 'logcat -v time', { signal: ac.signal });
  assert.ok(Date.now() - t0 >= 90);
  assert.match(r.stdout.split('\n')[1]!, /^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [VDIWEF]\/.+\(\s*\d+\): /);
  assert.equal((await runShell(p, 'logcat -t 2')).stdout.trim().split('\n').length, 3);
});
