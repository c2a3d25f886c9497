import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import type { PhoneNet, TrafficState } from '../contracts.js';
import { runShell } from './run-shell.js';

const tmp = mkdtempSync(join(tmpdir(), 'phonehome-mount-test-'));
/** A certificate made with openssl, as the lab's and mitmproxy's are. */
function cert(cn: string): { pem: string; hash: string } {
  const key = join(tmp, `${cn}.key`);
  const crt = join(tmp, `${cn}.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      key,
      '-out',
      crt,
    ],
    { stdio: 'ignore' },
  );
  const hash = execFileSync('openssl', ['x509', '-noout', '-subject_hash_old', '-in', crt], {
    encoding: 'utf8',
  }).trim();
  return { pem: readFileSync(crt, 'utf8'), hash };
}

/** A phone network that only records what the phone tells it. */
function recordingNet(labCert: string, states: TrafficState[]): PhoneNet {
  return {
    ip: '10.213.1.10',
    mac: '02:50:00:00:01:0a',
    captureInterface: 'test0',
    labCert,
    setState: (s) => states.push(s),
    ping: async () => ({ output: '', exitCode: 1 }),
    touch: async () => ({ ok: false }),
    startOnPhoneCapture: async () => ({ stop: async () => ({ packets: 0 }) }),
  };
}

after(async () => {
  await cleanupPhones();
  rmSync(tmp, { recursive: true, force: true });
});

describe('simulated phone: mounts and the system CA store', () => {
  it('the root procedure puts a CA in the store apps read (Android 14: the APEX); the trust follows; a reboot undoes it', async () => {
    const lab = cert('lab');
    const mitm = cert('mitm');
    const states: TrafficState[] = [];
    const phone = await makePhone('xiaomi', {
      net: recordingNet(lab.pem, states),
      edit: (p) => {
        p.rooted = true;
      },
    });
    const last = () => states[states.length - 1]!;
    assert.deepEqual(last().trust, [lab.pem]);
    // As the shell user: no mounting.
    const denied = await runShell(phone, 'mount -t tmpfs tmpfs /system/etc/security/cacerts');
    assert.equal(denied.code, 1);
    // The steps harness/device/install-ca.ts sends, through su.
    await runShell(phone, `cat > /data/local/tmp/${mitm.hash}.0`, { stdin: mitm.pem });
    const D = '/system/etc/security/cacerts';
    const A = '/apex/com.android.conscrypt/cacerts';
    const script = [
      'mkdir -p /data/local/tmp/c',
      `cp ${D}/* /data/local/tmp/c/`,
      `cp /data/local/tmp/${mitm.hash}.0 /data/local/tmp/c/`,
      `mount -t tmpfs tmpfs ${D}`,
      `cp /data/local/tmp/c/* ${D}/`,
      `chcon u:object_r:system_file:s0 ${D}/*`,
      `if [ -d ${A} ]; then mount --bind ${D} ${A}; for p in $(pidof zygote64); do nsenter --mount=/proc/$p/ns/mnt -- mount --bind ${D} ${A}; done; fi`,
    ].join(' && ');
    const r = await runShell(phone, `su -c '${script}'`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const ls = await runShell(phone, `ls ${A}`);
    assert.deepEqual(ls.stdout.trim().split(/\s+/).sort(), [lab.hash, mitm.hash].map((h) => `${h}.0`).sort());
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(new Set(last().trust), new Set([lab.pem, mitm.pem]));
    // A glob that matches nothing stays itself, as in sh.
    const none = await runShell(phone, 'ls /system/etc/security/cacerts/*.9');
    assert.notEqual(none.code, 0);
    await phone.reboot('');
    await new Promise((res) => setTimeout(res, 1200));
    assert.deepEqual(last().trust, [lab.pem]);
  });
});
