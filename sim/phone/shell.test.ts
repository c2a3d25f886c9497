import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

test('&&, || and ; follow exit statuses; $? reports the last one', async () => {
  const p = await makePhone();
  assert.equal((await runShell(p, 'true && echo yes || echo no')).stdout, 'yes\n');
  assert.equal((await runShell(p, 'false && echo yes || echo no')).stdout, 'no\n');
  assert.equal((await runShell(p, 'false; echo $?; true; echo $?')).stdout, '1\n0\n');
  assert.equal((await runShell(p, 'exit 7')).code, 7);
  assert.equal((await runShell(p, 'echo a; exit 3; echo b')).stdout, 'a\n');
});

test('an unknown command answers as mksh: "inaccessible or not found" on stderr, exit 127', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'frobnicate --now');
  assert.equal(r.code, 127);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '/system/bin/sh: frobnicate: inaccessible or not found\n');
  assert.equal((await runShell(p, 'frobnicate 2>/dev/null; echo $?')).stdout, '127\n');
});

test('su is not there on an unrooted phone, and runs as root on a rooted one', async () => {
  const plain = await makePhone();
  const r = await runShell(plain, 'su -c id');
  assert.equal(r.code, 127);
  assert.equal(r.stderr, '/system/bin/sh: su: inaccessible or not found\n');
  const rooted = await makePhone('pixel', { edit: (pr) => (pr.rooted = true) });
  const id = await runShell(rooted, 'su -c id');
  assert.equal(id.code, 0);
  assert.match(id.stdout, /^uid=0\(root\)/);
  assert.equal((await runShell(rooted, "su 0 sh -c 'whoami'")).stdout, 'root\n');
  assert.equal((await runShell(rooted, 'whoami')).stdout, 'shell\n');
});

test('redirections: 2>&1 merges, 2>/dev/null drops, > writes into the sandbox, < reads it', async () => {
  const p = await makePhone();
  const merged = await runShell(p, 'nope 2>&1');
  assert.equal(merged.stdout, '/system/bin/sh: nope: inaccessible or not found\n');
  assert.equal(merged.stderr, '');
  const dropped = await runShell(p, 'nope 2>/dev/null');
  assert.equal(dropped.stderr, '');
  assert.equal(dropped.code, 127);
  await runShell(p, 'echo one > /data/local/tmp/f; echo two >> /data/local/tmp/f');
  assert.equal((await runShell(p, 'cat < /data/local/tmp/f')).stdout, 'one\ntwo\n');
  const bad = await runShell(p, 'echo x > /no/such/dir/f');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /can't create/);
});

test('pipes to grep, head, tail, wc and cat', async () => {
  const p = await makePhone();
  assert.equal(
    (await runShell(p, 'pm list packages | grep -c miui')).stdout.trim(),
    String([...p.state.apps.packages.keys()].filter((n) => n.includes('miui')).length),
  );
  assert.equal((await runShell(p, 'getprop | head -n 2 | wc -l')).stdout.trim(), '2');
  assert.equal((await runShell(p, 'getprop | tail -1')).stdout, '[wifi.interface]: [wlan0]\n');
  assert.equal((await runShell(p, 'echo hello | cat')).stdout, 'hello\n');
  assert.equal((await runShell(p, 'echo hello | grep -q nothing')).code, 1);
  assert.equal((await runShell(p, 'pm list packages | grep -v package')).code, 1);
});

test('a reader that stops (head) ends a streaming writer (logcat) instead of hanging', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'logcat -v brief | head -n 2');
  assert.equal(r.stdout.split('\n').length, 3);
});

test('[ -e PATH ] and test, as Appium checks for mock_apps.json', async () => {
  const p = await makePhone();
  const check = "[ -e '/data/local/tmp/mock_apps.json' ] && echo __PASS__";
  assert.equal((await runShell(p, check)).stdout, '');
  await runShell(p, 'echo \'["io.appium.settings"]\' > /data/local/tmp/mock_apps.json');
  assert.equal((await runShell(p, check)).stdout, '__PASS__\n');
  assert.equal(
    (await runShell(p, 'test -d /sdcard && test ! -f /sdcard && test 3 -gt 2 && [ a != b ]')).code,
    0,
  );
  assert.equal((await runShell(p, '[ -z "" ] && [ -n x ] && [ "$NOPE" = "" ]')).code, 0);
});

test("adbkit's boot wait prints 1 each second until the client goes away", async () => {
  const p = await makePhone();
  const ac = new AbortController();
  const stdout = new PassThrough();
  let seen = '';
  stdout.on('data', (d: Buffer) => {
    seen += d.toString();
    if (seen.split('\n').length > 2) ac.abort();
  });
  const started = Date.now();
  await p.shell('while getprop sys.boot_completed 2>/dev/null; do sleep 1; done', {
    stdin: new PassThrough(),
    stdout,
    stderr: new PassThrough(),
    signal: ac.signal,
    pty: false,
  });
  assert.equal(seen, '1\n1\n');
  assert.ok(Date.now() - started >= 900, 'sleep 1 really waits');
});

test('export X=…; exec CMD, env per command, sh -c and $(…)', async () => {
  const p = await makePhone();
  assert.equal((await runShell(p, 'export X=42; exec sh -c \'echo "x=$X"\'')).stdout, 'x=42\n');
  assert.equal((await runShell(p, 'A=1 env | grep ^A=')).stdout, 'A=1\n');
  assert.equal(
    (await runShell(p, 'echo "model: $(getprop ro.product.model)"')).stdout,
    'model: 23129RAA4G\n',
  );
  assert.equal((await runShell(p, "sh -c 'exit 4'; echo $?")).stdout, '4\n');
  assert.equal((await runShell(p, 'for x in $(echo a b); do echo -$x; done')).stdout, '-a\n-b\n');
});

test('a syntax error is reported on stderr and nothing runs', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'echo one; if true; then echo x');
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^\/system\/bin\/sh: syntax error/);
  assert.notEqual(r.code, 0);
});

test('sleep counts phone time: at the lab speed 60, sleep 6 lasts a tenth of a second', async () => {
  const p = await makePhone('xiaomi', { speed: 60 });
  const t0 = performance.now();
  assert.equal((await runShell(p, 'sleep 6; echo done')).stdout, 'done\n');
  const ms = performance.now() - t0;
  assert.ok(ms >= 95 && ms < 1_000, `${ms} ms`);
});

test('the phone tells its speed in ro.phonehome.sim.speed, also after a factory reset', async () => {
  const p = await makePhone('xiaomi', { speed: 60 });
  assert.equal((await runShell(p, 'getprop ro.phonehome.sim.speed')).stdout, '60\n');
  p.state.resetToProfile();
  assert.equal((await runShell(p, 'getprop ro.phonehome.sim.speed')).stdout, '60\n');
  const real = await makePhone('xiaomi');
  assert.equal((await runShell(real, 'getprop ro.phonehome.sim.speed')).stdout, '1\n');
});

test('sleep waits and is cut short by the client going away', async () => {
  const p = await makePhone();
  const t0 = Date.now();
  await runShell(p, 'sleep 0.2');
  assert.ok(Date.now() - t0 >= 190);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const t1 = Date.now();
  await runShell(p, 'sleep 30', { signal: ac.signal });
  assert.ok(Date.now() - t1 < 2000);
});
