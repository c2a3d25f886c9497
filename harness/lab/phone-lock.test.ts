/**
 * The per-phone locks between phonehome processes, with real processes: a second one is refused
 * naming who holds the phone, or waits and gets it when the first lets go; a holder killed with
 * SIGKILL leaves a lock that the next process takes over.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { lockPhones, PhoneBusyError } from './phone-lock.js';

const MODULE = resolve('dist/harness/lab/phone-lock.js');
const dir = mkdtempSync(join(tmpdir(), 'phonehome-locks-test-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Another process that takes the phones' locks, says "locked", and holds them until killed or `ms` pass. */
function holder(serials: string[], ms = 60_000): Promise<ChildProcess> {
  const code = `
    const { lockPhones } = await import(${JSON.stringify(MODULE)});
    const locks = await lockPhones(${JSON.stringify(serials)}, { dir: ${JSON.stringify(dir)} });
    console.log('locked');
    setTimeout(async () => { await locks.release(); console.log('released'); process.exit(0); }, ${ms});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) res(child);
    });
    child.on('exit', (c) => rej(new Error(`holder exited ${c} before locking`)));
  });
}

test('a phone another process holds is refused at once, naming who holds it and since when', async () => {
  const other = await holder(['SERIAL-A']);
  await assert.rejects(lockPhones(['SERIAL-B', 'SERIAL-A'], { dir }), (e: unknown) => {
    assert.ok(e instanceof PhoneBusyError, String(e));
    assert.equal(e.serial, 'SERIAL-A');
    assert.equal(e.holder?.pid, other.pid);
    assert.equal(e.holder?.host, hostname());
    assert.match(
      e.message,
      new RegExp(
        `^phone SERIAL-A is busy: phonehome \\(pid ${other.pid} on .+\\) has had it since 20\\d\\d-`,
      ),
    );
    assert.match(e.message, /--wait-for-phones SECONDS waits for it$/);
    return true;
  });
  // What it had taken before meeting the busy phone (SERIAL-B) is let go again.
  const b = await lockPhones(['SERIAL-B'], { dir });
  await b.release();
  other.kill('SIGTERM');
});

test('a second process that waits gets the phone once the first lets go', async () => {
  await holder(['127.0.0.1:40001'], 1500);
  const t0 = Date.now();
  const locks = await lockPhones(['127.0.0.1:40001'], { dir, waitMs: 20_000 });
  const waited = Date.now() - t0;
  assert.ok(waited >= 500 && waited < 15_000, `waited ${waited} ms`);
  assert.deepEqual(locks.serials, ['127.0.0.1:40001']);
  // Serials with ":" and "." make file names that stay inside the folder.
  assert.ok(
    readdirSync(dir).every((f) => !f.includes('/') && !f.startsWith('.')),
    readdirSync(dir).join(' '),
  );
  await locks.release();
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('127')),
    [],
    'nothing left after release',
  );
});

test('a lock left by a holder killed with SIGKILL is taken over, and says so', async () => {
  const other = await holder(['SERIAL-K']);
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const notes: string[] = [];
  const locks = await lockPhones(['SERIAL-K'], { dir, onNote: (t) => notes.push(t) });
  assert.deepEqual(notes, [
    `phone SERIAL-K: taking over the lock of phonehome pid ${other.pid}, which is gone`,
  ]);
  await locks.release();
});

test('two processes asking at once: exactly one gets the phone', async () => {
  const code = `
    const { lockPhones } = await import(${JSON.stringify(MODULE)});
    try { const l = await lockPhones(['SERIAL-R'], { dir: ${JSON.stringify(dir)} }); console.log('got'); await new Promise((r) => setTimeout(r, 1500)); await l.release(); }
    catch (e) { console.log(e.name); }
  `;
  const run = () =>
    new Promise<string>((res) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', code], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(c);
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      c.on('exit', () => res(out.trim()));
    });
  const outs = (await Promise.all([run(), run(), run()])).sort();
  assert.deepEqual(outs, ['PhoneBusyError', 'PhoneBusyError', 'got']);
  assert.ok(!existsSync(join(dir, 'SERIAL-R.lock')));
});
