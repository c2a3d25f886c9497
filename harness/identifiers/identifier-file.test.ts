import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIdentifierFile } from './identifier-file.js';
import { redactIdentifiers } from './redact.js';

describe('identifier files', () => {
  it('reads kinds with a value or a list, normalising MACs and Android IDs; IMEIs get their slot', () => {
    const ids = parseIdentifierFile(
      'imei: ["868523061234565", "868523061234573"]\nwifi-mac: AA:BB:CC:0D:1E:2F\nandroid-id: 9774d56d682e549\n',
      'ids.yaml',
    );
    assert.deepEqual(ids, [
      { kind: 'imei', value: '868523061234565', slot: 0 },
      { kind: 'imei', value: '868523061234573', slot: 1 },
      { kind: 'android-id', value: '09774d56d682e549' },
      { kind: 'wifi-mac', value: 'aa:bb:cc:0d:1e:2f' },
    ]);
  });

  it('names the file, line and field of each problem', () => {
    const bad = (text: string, re: RegExp) => assert.throws(() => parseIdentifierFile(text, 'ids.yaml'), re);
    bad('imei: ["868523061234565", "868523061234566"]\n', /ids\.yaml:1:27: imei\[1\]: not an IMEI/);
    bad(
      'serial: a1\nimsi: 234150123456789\n',
      /ids\.yaml:2:7: imsi: expected the value as text \(quote it\)/,
    );
    bad('imei2: "868523061234565"\n', /ids\.yaml:1:1: .*imei2/);
    bad('wifi-mac: []\n', /ids\.yaml:1:11: wifi-mac: an empty list/);
    bad('', /ids\.yaml:1:1: the file is empty/);
  });
});

describe('redaction', () => {
  it('masks every value, as written, in either case, hex or base64, in every string of the data, in place', () => {
    const data = {
      flows: [
        {
          http: { target: '/r?imei=868523061234565&sn=A1B2C3D4' },
          names: [{ name: 'a1b2c3d4.example.test' }, { name: '6131623263336434.c.evil.test' }],
        },
      ],
      warnings: ['nothing here', `uid=${Buffer.from('868523061234565').toString('base64')};`],
    };
    redactIdentifiers(data, [
      { kind: 'imei', value: '868523061234565' },
      { kind: 'serial', value: 'a1b2c3d4' },
    ]);
    assert.deepEqual(data, {
      flows: [
        {
          http: { target: '/r?imei=868…565&sn=a1…d4' },
          names: [{ name: 'a1…d4.example.test' }, { name: '6131…6434.c.evil.test' }],
        },
      ],
      warnings: ['nothing here', 'uid=ODY4…NTY1;'],
    });
  });
});
