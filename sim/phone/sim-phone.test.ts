import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

test('the banner and serial come from the profile (or the given serial)', async () => {
  const p = await makePhone();
  assert.deepEqual(p.banner(), {
    state: 'device',
    productName: 'sapphire_global',
    productModel: '23129RAA4G',
    productDevice: 'sapphire',
  });
  assert.equal(p.serial, 'a1b2c3d4');
  assert.equal(
    (await makePhone('pixel', { serial: '127.0.0.1:40001', unauthorized: true })).serial,
    '127.0.0.1:40001',
  );
});

test('rootDir is laid out like a phone; hostPath maps /sdcard and never escapes', async () => {
  const p = await makePhone();
  for (const d of ['/storage/emulated/0/Download', '/data/local/tmp', '/system/bin'])
    assert.ok(existsSync(join(p.rootDir, d)), d);
  assert.equal(p.hostPath('/sdcard/Download/x.pcap'), join(p.rootDir, 'storage/emulated/0/Download/x.pcap'));
  assert.equal(p.hostPath('/storage/self/primary/a'), join(p.rootDir, 'storage/emulated/0/a'));
  assert.equal(p.hostPath('/../../etc/passwd'), join(p.rootDir, 'etc/passwd'));
  assert.equal(p.hostPath('/a\0b'), undefined);
  assert.match(readFileSync(p.hostPath('/system/build.prop')!, 'utf8'), /^ro\.product\.model=23129RAA4G$/m);
});

test('file commands work in the sandbox: mkdir -p, touch, ls, stat, cp, mv, rm', async () => {
  const p = await makePhone();
  const r = await runShell(
    p,
    'mkdir -p /sdcard/a/b && touch /sdcard/a/b/f && echo hi > /sdcard/a/g && ls /sdcard/a && stat -c %s /sdcard/a/g && cp /sdcard/a/g /sdcard/a/h && mv /sdcard/a/h /sdcard/a/i && ls /sdcard/a',
  );
  assert.equal(r.stdout, 'b\ng\n3\nb\ng\ni\n');
  assert.equal((await runShell(p, 'rm /sdcard/a')).code, 1);
  assert.equal(
    (await runShell(p, 'rm -rf /sdcard/a && ls /sdcard/a')).stderr,
    'ls: /sdcard/a: No such file or directory\n',
  );
  assert.match((await runShell(p, 'ls -l /data/local')).stdout, /^drwx.* tmp$/m);
  assert.equal((await runShell(p, 'cat /nope')).stderr, 'cat: /nope: No such file or directory\n');
});

test('connectTcp refuses ports nobody listens on and relays to a listener', async () => {
  const p = await makePhone();
  await assert.rejects(p.connectTcp(6790), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  const stop = p.listen(7000, (s) => {
    s.on('data', (d: Buffer) => s.write(`echo:${d}`));
    s.on('end', () => s.end());
  });
  const c = await p.connectTcp(7000);
  c.end('ping');
  let got = '';
  for await (const chunk of c) got += chunk;
  assert.equal(got, 'echo:ping');
  stop();
  await assert.rejects(p.connectTcp(7000), { code: 'ECONNREFUSED' });
});

test('reboot: boot_completed drops to 0, then the phone comes back locked on the home screen', async () => {
  const p = await makePhone('xiaomi', { bootMs: 150 });
  await runShell(p, 'am start -n com.android.settings/.Settings');
  const rebooting = p.reboot('');
  assert.equal((await runShell(p, 'getprop sys.boot_completed')).stdout, '0\n');
  assert.equal(p.state.trafficState().screenOn, false);
  await rebooting;
  assert.equal((await runShell(p, 'getprop sys.boot_completed')).stdout, '1\n');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
  assert.equal(p.state.screen.locked, true);
  assert.doesNotMatch((await runShell(p, 'ps -A')).stdout, /com\.android\.settings/);
});

test('state changes are reported with their kind', async () => {
  const p = await makePhone();
  const kinds: string[] = [];
  p.state.on('change', (k: string) => kinds.push(k));
  await runShell(p, 'input keyevent 26; svc wifi disable; am start -n com.android.settings/.Settings');
  assert.ok(kinds.includes('screen') && kinds.includes('setting') && kinds.includes('foreground'));
  const t = p.state.trafficState();
  assert.equal(t.online, false);
  assert.equal(t.screenOn, false);
  assert.deepEqual(t.ids, {
    imei: '868523061234565',
    androidId: '3f6a1c92b07e45d8',
    serial: 'a1b2c3d4',
    advertisingId: '6f1d2c9e-58b4-4e0a-9a7c-2d41f3b8e915',
    // A phone with no network has no Wi-Fi interface address.
    wifiMac: '',
    // No SIM in: the card's identifiers are empty, so no traffic can carry them.
    imsi: '',
    iccid: '',
    phoneNumber: '',
  });
  assert.ok(t.packages.includes('com.xiaomi.xmsf'), 'the traffic state lists the installed packages');
});

test('an interactive (pty) shell prompts, runs lines and ends on exit', async () => {
  const p = await makePhone();
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = p.shell('', {
    stdin,
    stdout,
    stderr: stdout,
    signal: new AbortController().signal,
    pty: true,
  });
  stdin.write('getprop ro.product.device\n');
  while (!out.endsWith('sapphire\r\nsapphire:/ $ ')) await new Promise((r) => setTimeout(r, 10));
  stdin.write('exit 5\n');
  assert.equal(await done, 5);
  // A terminal: input echoed, lines ending in CR LF, a prompt before each command.
  assert.equal(out, 'sapphire:/ $ getprop ro.product.device\r\nsapphire\r\nsapphire:/ $ exit 5\r\n');
});

test('a command run with a pty gets CR LF line ends; without one plain LF', async () => {
  const p = await makePhone();
  const chunks: Buffer[] = [];
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => chunks.push(d));
  const code = await p.shell('echo a; echo b', {
    stdin: new PassThrough(),
    stdout,
    stderr: stdout,
    signal: new AbortController().signal,
    pty: true,
  });
  assert.equal(code, 0);
  assert.equal(Buffer.concat(chunks).toString(), 'a\r\nb\r\n');
  assert.equal((await runShell(p, 'echo a; echo b')).stdout, 'a\nb\n');
});

test('adb shell reboot goes to the reboot handler; without one the phone restarts in place', async () => {
  const p = await makePhone('xiaomi', { bootMs: 50 });
  const asked: string[] = [];
  p.setRebootHandler((target) => asked.push(target));
  await runShell(p, 'reboot recovery');
  assert.deepEqual(asked, ['recovery']);
  assert.equal(p.state.screen.locked, false);
  p.setRebootHandler(undefined);
  await runShell(p, 'svc power reboot');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(p.state.screen.locked, true, 'rebooted: the keyguard is up');
  assert.equal((await runShell(p, 'getprop sys.boot_completed')).stdout, '1\n');
});

test('stdin reaches the command: cat > FILE as `adb exec-in` sends it, and digests of files and stdin', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'cat > /data/local/tmp/in.bin', { stdin: Buffer.from('abc') });
  assert.equal(r.code, 0);
  assert.equal(readFileSync(p.hostPath('/data/local/tmp/in.bin')!, 'utf8'), 'abc');
  assert.equal(
    (await runShell(p, 'md5sum /data/local/tmp/in.bin')).stdout,
    '900150983cd24fb0d6963f7d28e17f72  /data/local/tmp/in.bin\n',
  );
  assert.equal(
    (await runShell(p, 'sha256sum', { stdin: 'abc' })).stdout,
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n',
  );
});

test('rmdir and touch go on past a bad path, say which, and exit 1', async () => {
  const p = await makePhone();
  const ok = await runShell(
    p,
    'mkdir -p /sdcard/d1 /sdcard/d2 && rmdir /sdcard/d1 /sdcard/d2 && touch /sdcard/t',
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(existsSync(p.hostPath('/sdcard/d1')!), false);
  assert.equal(existsSync(p.hostPath('/sdcard/t')!), true);
  const bad = await runShell(p, 'rmdir /sdcard/nope /sdcard/t2; touch /sdcard/no/such/x /sdcard/t3');
  assert.equal(
    bad.code,
    1,
    'the shell goes on after rmdir; its status is that of touch, which failed one path',
  );
  assert.match(bad.stderr, /^rmdir: '\/sdcard\/nope': No such file or directory$/m);
  assert.match(bad.stderr, /^touch: '\/sdcard\/no\/such\/x': No such file or directory$/m);
  assert.equal(existsSync(p.hostPath('/sdcard/t3')!), true, 'touch went on to the next path');
  const status = await runShell(p, 'touch /sdcard/no/such/y; echo $?');
  assert.equal(status.stdout.trim(), '1');
});

test('cp and mv: into a folder or onto a name, past a missing source (saying which), exit 1 on any failure', async () => {
  const p = await makePhone();
  const ok = await runShell(
    p,
    'mkdir -p /sdcard/src /sdcard/dst && echo a > /sdcard/src/a && echo b > /sdcard/src/b && ' +
      'cp /sdcard/src/a /sdcard/src/b /sdcard/dst && cp /sdcard/src/a /sdcard/a2 && ' +
      'mv /sdcard/a2 /sdcard/dst && mv /sdcard/src/b /sdcard/b2',
  );
  assert.equal(ok.code, 0, ok.stderr);
  const read = (path: string) => readFileSync(p.hostPath(path)!, 'utf8');
  assert.equal(read('/sdcard/dst/a'), 'a\n');
  assert.equal(read('/sdcard/dst/b'), 'b\n');
  assert.equal(read('/sdcard/dst/a2'), 'a\n', 'mv into a folder keeps the name');
  assert.equal(read('/sdcard/b2'), 'b\n', 'mv onto a name renames');
  assert.equal(existsSync(p.hostPath('/sdcard/src/b')!), false);

  const cp = await runShell(p, 'cp /sdcard/nope /sdcard/src/a /sdcard/dst2; echo $?');
  assert.match(cp.stderr, /^cp: \/sdcard\/nope: No such file or directory$/m);
  assert.equal(cp.stdout.trim(), '1');
  assert.equal(read('/sdcard/dst2'), 'a\n', 'cp went on to the next source');
  const dir = await runShell(
    p,
    'cp /sdcard/src /sdcard/dst3; echo $?; cp -r /sdcard/src /sdcard/dst3; echo $?',
  );
  assert.match(dir.stderr, /^cp: Skipped dir '\/sdcard\/src'$/m);
  assert.equal(dir.stdout, '1\n0\n');
  assert.equal(read('/sdcard/dst3/a'), 'a\n');

  const mv = await runShell(p, 'mv /sdcard/nope /sdcard/dst/a /sdcard/moved; echo $?');
  assert.match(mv.stderr, /^mv: \/sdcard\/nope: No such file or directory$/m);
  assert.equal(mv.stdout.trim(), '1');
  assert.equal(read('/sdcard/moved'), 'a\n', 'mv went on to the next source');
  for (const cmd of ['cp', 'mv']) {
    const one = await runShell(p, `${cmd} /sdcard/b2`);
    assert.equal(one.code, 1);
    assert.equal(one.stderr, `${cmd}: Needs 2 arguments\n`);
  }
});
