/**
 * Identifiers are secrets in phonehome's own output: shown masked (the first and last four
 * characters) with a keyed fingerprint, so that two runs of one phone can be compared without the
 * value. The key is the lab's (PHONEHOME_ID_KEY), else one made per machine and kept beside the
 * reports; the raw values stay in memory.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `8685…4567` for long values; short ones show less, never more than half of the value. */
export function maskId(value: string): string {
  if (value.length <= 4) return '…';
  const keep = Math.min(4, Math.floor(value.length / 4));
  return `${value.slice(0, keep)}…${value.slice(-keep)}`;
}

/** A keyed fingerprint of the value: the first 12 hex digits of HMAC-SHA256(key, value). */
export function fingerprintId(key: string | Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex').slice(0, 12);
}

/**
 * The fingerprint key: PHONEHOME_ID_KEY when set (a lab shares one across its hosts, so that
 * fingerprints compare across them), else a random key made once for this user and kept, readable
 * by the user alone, in $XDG_CONFIG_HOME/phonehome/id-key (~/.config by default).
 */
export function fingerprintKey(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['PHONEHOME_ID_KEY'];
  if (given) return given;
  const dir = join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'phonehome');
  const file = join(dir, 'id-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      // Made by another process at the same moment: use that one.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return readFileSync(file, 'utf8').trim();
  }
}

/** Adb serials that name a connection, not the phone: `host:port`, `[v6]:port`, `emulator-N`. */
const CONNECTION_SERIAL = /^(?:(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]+\]|localhost):\d{1,5}$|^emulator-\d+$/i;

/**
 * How phonehome's output names a phone: its adb serial when that names a connection (a simulated
 * phone's 127.0.0.1:5601), else (a USB phone's serial is its ro.serialno, an identifier) the serial
 * masked with the first six digits of its keyed fingerprint, e.g. `R5…DE~3fa2c1`: stable for one
 * lab key, so that runs and nights compare, and unique enough within a farm.
 */
export function phoneLabel(serial: string, key: string | Buffer): string {
  if (CONNECTION_SERIAL.test(serial)) return serial;
  return `${maskId(serial)}~${fingerprintId(key, serial).slice(0, 6)}`;
}

/** True when what someone typed names this phone: its serial, its label, or the label's fingerprint. */
export function namesPhone(given: string, serial: string, key: string | Buffer): boolean {
  if (given === serial) return true;
  const label = phoneLabel(serial, key);
  if (given === label) return true;
  const tilde = label.lastIndexOf('~');
  return tilde > 0 && given.toLowerCase() === label.slice(tilde + 1);
}
