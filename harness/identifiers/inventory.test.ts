import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseInventory, readInventory, withSupplied } from './inventory.js';
import type { PhoneIdentifiers } from './read-identifiers.js';

const TEXT = `R58N12ABCDE:
  imsi: "234150123456789"
  advertising-id: 6f1d2c9e-58b4-4e0a-9a7c-2d41f3b8e915
"127.0.0.1:5601":
  phone-number: "+447700900123"
`;

const told: PhoneIdentifiers = {
  found: [
    { kind: 'serial', value: 'R58N12ABCDE', source: 'getprop ro.serialno' },
    { kind: 'imsi', value: '234150123456789', source: 'service call iphonesubinfo 8' },
  ],
  unread: [
    { kind: 'advertising-id', tried: ['cat adid_settings.xml'], why: 'needs root' },
    { kind: 'phone-number', tried: ['service call iphonesubinfo 15'], why: 'refused' },
  ],
  packages: ['com.example.app'],
};

describe('the lab inventory', () => {
  it('finds a phone by its adb serial or by the serial it told', () => {
    const inv = parseInventory(TEXT, 'inventory.yaml');
    assert.deepEqual(
      inv.valuesFor('127.0.0.1:5601').map((v) => v.kind),
      ['phone-number'],
    );
    assert.deepEqual(
      inv.valuesFor('emulator-5554', told).map((v) => v.kind),
      ['imsi', 'advertising-id'],
    );
    assert.deepEqual(inv.valuesFor('emulator-5554'), []);
  });

  it('adds what the phone did not tell, marked as supplied; a value it told is not added twice', () => {
    const inv = parseInventory(TEXT, '/lab/inventory.yaml');
    const ids = withSupplied(told, inv.valuesFor('R58N12ABCDE'), inv.file);
    assert.deepEqual(
      ids.found.map((f) => `${f.kind} ${f.source}`),
      [
        'serial getprop ro.serialno',
        'imsi service call iphonesubinfo 8',
        'advertising-id supplied by inventory.yaml',
      ],
    );
    assert.deepEqual(
      ids.unread.map((u) => u.kind),
      ['phone-number'],
    );
    assert.deepEqual(ids.packages, told.packages);
  });

  it('names the file, line and field of a bad value; a missing default file is no inventory', async () => {
    assert.throws(
      () => parseInventory('R58N12ABCDE:\n  imei: "868523061234566"\n', 'inv.yaml'),
      /inv\.yaml:2:9: R58N12ABCDE\.imei: not an IMEI/,
    );
    assert.throws(() => parseInventory('R58N12ABCDE:\n  imie: "1"\n', 'inv.yaml'), /inv\.yaml:2:3: .*imie/);
    assert.throws(
      () => parseInventory('- a\n', 'inv.yaml'),
      /inv\.yaml:1:1: expected a mapping of phone serials, got a list/,
    );
    assert.throws(
      () => parseInventory('', 'inv.yaml'),
      /inv\.yaml:1:1: the file is empty; expected phone serials/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'phonehome-inv-'));
    try {
      assert.equal(await readInventory(join(dir, 'none.yaml'), false), undefined);
      await assert.rejects(readInventory(join(dir, 'none.yaml'), true), /none\.yaml.*no such file/);
      await assert.rejects(readInventory(dir, false), /is a directory/);
      await writeFile(join(dir, 'inv.yaml'), TEXT);
      assert.equal((await readInventory(join(dir, 'inv.yaml'), true))?.phones.size, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
