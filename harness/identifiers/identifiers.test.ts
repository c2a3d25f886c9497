import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintId, maskId, namesPhone, phoneLabel } from './mask.js';
import { decodeParcelString, luhnValid } from './parcel.js';
import { subInfoCalls } from './read-identifiers.js';

/** A Parcel dump as the shell prints it: 16 bytes a row, LE words, a quoted column. */
function dump(words: number[]): string {
  const rows: string[] = [];
  for (let i = 0; i < words.length; i += 4) {
    const part = words.slice(i, i + 4);
    const hex = part.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join(' ');
    rows.push(`  0x${(i * 4).toString(16).padStart(8, '0')}: ${hex.padEnd(35)} '................'`);
  }
  return `Result: Parcel(\n${rows.join('\n')})\n`;
}

/** The words of a String16 reply: exception, length, then two UTF-16 units a word. */
function string16(exception: number, s: string | undefined): number[] {
  if (s === undefined) return [exception, -1];
  const out = [exception, s.length];
  const units = [...s, '\0'].map((c) => c.charCodeAt(0));
  if (units.length % 2) units.push(0);
  for (let i = 0; i < units.length; i += 2) out.push(units[i]! | (units[i + 1]! << 16));
  return out;
}

describe('service call replies', () => {
  it('decodes a String16 over several rows from the hex words, not the quoted column', () => {
    const r = decodeParcelString(dump(string16(0, '868523061234565')));
    assert.deepEqual(r, { kind: 'string', value: '868523061234565' });
  });

  it('reads a one-line reply, CR LF line ends, a null string and a refusal with its message', () => {
    assert.deepEqual(decodeParcelString("Result: Parcel(00000000 ffffffff   '........')\r\n"), {
      kind: 'null',
    });
    const refused = decodeParcelString(dump(string16(-1, 'Requires READ_PHONE_STATE')));
    assert.deepEqual(refused, { kind: 'refused', code: -1, message: 'Requires READ_PHONE_STATE' });
  });

  it('says when the output is no Parcel at all, or holds fewer units than it claims', () => {
    assert.equal(decodeParcelString('service: Service iphonesubinfo does not exist\n').kind, 'unreadable');
    assert.equal(decodeParcelString(dump([0, 15, 0x00360038])).kind, 'unreadable');
  });

  it('keeps a quote or a dot of the value that the quoted column would have lost', () => {
    assert.deepEqual(decodeParcelString(dump(string16(0, "a.b'c"))), { kind: 'string', value: "a.b'c" });
  });
});

describe('IMEI check digit', () => {
  it('accepts real check digits and refuses any other digit', () => {
    assert.equal(luhnValid('868523061234565'), true);
    assert.equal(luhnValid('355296241876544'), true);
    assert.equal(luhnValid('490154203237518'), true);
    for (let d = 0; d <= 9; d++) if (d !== 8) assert.equal(luhnValid(`49015420323751${d}`), false);
    assert.equal(luhnValid('49015420323751'), false, 'fourteen digits are not an IMEI');
    assert.equal(luhnValid('4901542032375a8'), false);
  });
});

describe('transaction codes by SDK level', () => {
  it('follows the AIDL order of each release, with the shell package where it is asked for', () => {
    assert.equal(subInfoCalls(34).imeiForSlot?.(1), '4 i32 1 s16 com.android.shell');
    assert.equal(subInfoCalls(34).imsi, '8 s16 com.android.shell');
    assert.equal(subInfoCalls(29).imeiForSlot?.(0), '3 i32 0 s16 com.android.shell');
    assert.equal(subInfoCalls(29).iccid, '10 s16 com.android.shell');
    assert.equal(subInfoCalls(22).imeiForSlot?.(0), '3 i32 0');
    assert.equal(subInfoCalls(19).imsi, '3');
    assert.equal(subInfoCalls(21).imsi, undefined);
    assert.equal(subInfoCalls(35).iccid, '13 s16 com.android.shell');
  });
});

describe('masking', () => {
  it('shows at most the first and last four characters, and less of short values', () => {
    assert.equal(maskId('868523061234565'), '868…565');
    assert.equal(maskId('3f6a1c92b07e45d8'), '3f6a…45d8');
    assert.equal(maskId('a1b2c3d4'), 'a1…d4');
    assert.equal(maskId('abc'), '…');
  });

  it('names a USB phone by its masked serial and fingerprint, a connection by its address', () => {
    const label = phoneLabel('R58N12ABCDE', 'lab-key');
    assert.match(label, /^R5…DE~[0-9a-f]{6}$/);
    assert.ok(!label.includes('R58N12ABCDE'));
    assert.equal(label, phoneLabel('R58N12ABCDE', 'lab-key'));
    assert.notEqual(label, phoneLabel('R58N12ABCDF', 'lab-key'));
    for (const conn of ['127.0.0.1:5601', '[::1]:5555', 'emulator-5554', 'localhost:5037'])
      assert.equal(phoneLabel(conn, 'lab-key'), conn);
    // Wireless debugging names the phone by its serial too.
    assert.ok(!phoneLabel('adb-R58N12ABCDE-x1Yz2a._adb-tls-connect._tcp', 'k').includes('R58N12ABCDE'));
    const fp = label.slice(label.indexOf('~') + 1);
    for (const typed of ['R58N12ABCDE', label, fp, fp.toUpperCase()])
      assert.ok(namesPhone(typed, 'R58N12ABCDE', 'lab-key'), typed);
    assert.ok(!namesPhone('R5…DE', 'R58N12ABCDE', 'lab-key'));
    assert.ok(!namesPhone(fp, 'R58N12ABCDE', 'other-key'));
  });

  it('fingerprints by key: stable for one key, different for another, never the value', () => {
    const a = fingerprintId('lab-key', '868523061234565');
    assert.equal(a, fingerprintId('lab-key', '868523061234565'));
    assert.notEqual(a, fingerprintId('other-key', '868523061234565'));
    assert.match(a, /^[0-9a-f]{12}$/);
  });
});
