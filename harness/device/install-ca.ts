/**
 * Puts the lab's mitmproxy CA in a rooted phone's system trust store, the way the interception guides
 * do it (../shared/reference/INTERCEPT.md §4): a tmpfs over /system/etc/security/cacerts holding the
 * phone's own CAs plus the lab's, named by its old subject hash; from Android 14 that folder is also
 * bind-mounted over the Conscrypt APEX store, in zygote's mount namespaces so apps started from then
 * on see it. Lasts until the phone reboots. Needs root (`su`).
 */
import { Readable } from 'node:stream';
import type { OpOptions } from '../deadline.js';
import type { AdbDevice } from './adb.js';

const SYSTEM = '/system/etc/security/cacerts';
const APEX = '/apex/com.android.conscrypt/cacerts';

/** Where apps read the system CAs on this Android version. */
export function systemCaStore(sdk: number): string {
  return sdk >= 34 ? APEX : SYSTEM;
}

/** What install-ca did. */
export interface CaInstall {
  store: string;
  file: string;
  /** false: it was there already. */
  installed: boolean;
}

/** The root script that installs `<hash>.0`, pushed beforehand to /data/local/tmp. Pure. */
export function installScript(fileName: string): string {
  const tmp = '/data/local/tmp/phonehome-cacerts';
  return [
    `rm -rf ${tmp} && mkdir -p ${tmp}`,
    `cp ${SYSTEM}/* ${tmp}/`,
    `cp /data/local/tmp/${fileName} ${tmp}/${fileName}`,
    `mount -t tmpfs tmpfs ${SYSTEM}`,
    `cp ${tmp}/* ${SYSTEM}/`,
    `chown root:root ${SYSTEM}/*`,
    `chmod 644 ${SYSTEM}/*`,
    `chcon u:object_r:system_file:s0 ${SYSTEM}/*`,
    `if [ -d ${APEX} ]; then mount --bind ${SYSTEM} ${APEX}; for p in $(pidof zygote zygote64); do nsenter --mount=/proc/$p/ns/mnt -- mount --bind ${SYSTEM} ${APEX}; done; fi`,
    `rm -rf ${tmp} /data/local/tmp/${fileName}`,
  ].join(' && ');
}

/** Installs the CA (PEM text, file name `<hash>.0`) unless the store holds it already. */
export async function installCa(
  device: AdbDevice,
  pem: string,
  fileName: string,
  sdk: number,
  op: OpOptions = {},
): Promise<CaInstall> {
  const store = systemCaStore(sdk);
  const file = `${store}/${fileName}`;
  const there = await device.shell(`ls ${file}`, op);
  if (there.exitCode === 0 && there.output.toString('utf8').includes(fileName))
    return { store, file, installed: false };
  const root = await device.shell('su -c id', op);
  if (root.exitCode !== 0 || !/uid=0\b/.test(root.output.toString('utf8')))
    throw new Error(
      `the phone is not rooted (su -c id: ${root.output.toString('utf8').trim() || `exit ${root.exitCode}`}): ` +
        'a CA in the system store needs root (see README, "Interception")',
    );
  await device.push(Readable.from([Buffer.from(pem, 'utf8')]), `/data/local/tmp/${fileName}`, op);
  const script = installScript(fileName);
  const r = await device.shell(`su -c '${script.replace(/'/g, `'\\''`)}'`, op);
  if (r.exitCode !== 0)
    throw new Error(
      `installing ${fileName} failed (exit ${r.exitCode}): ${r.output.toString('utf8').trim()}`,
    );
  const now = await device.shell(`ls ${file}`, op);
  if (now.exitCode !== 0) throw new Error(`${file} is still not there after the install`);
  return { store, file, installed: true };
}
