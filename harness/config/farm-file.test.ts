import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { farmMatrix, parseFarmFile, remoteAdbWarning } from './farm-file.js';

const TWO_HOSTS = `formatVersion: 1
hosts:
  - name: lab-a
    captureInterface: wlan-ap0
    snaplen: 1518
    phones:
      - serial: a1b2c3d4
        profile: xiaomi-miui-global
      - serial: 27161FDH2000AB
  - name: lab-b
    runnerLabel: shelf-b
    capture: pcapdroid
    adb: { host: 127.0.0.1, port: 5038 }
    phones:
      - profile: pixel-stock
      - profile: pixel-stock
        note: the second Pixel
`;

test('a two-host farm becomes one job per host, with its runner labels and phone selection', () => {
  const farm = parseFarmFile(TWO_HOSTS, 'farm.yaml');
  assert.deepEqual(farm.warnings, []);
  assert.deepEqual(farmMatrix(farm), {
    include: [
      {
        host: 'lab-a',
        runsOn: ['self-hosted', 'phonehome', 'lab-a'],
        phoneArgs: ['--device', 'a1b2c3d4', '27161FDH2000AB'],
        capture: 'tcpdump',
        captureInterface: 'wlan-ap0',
        snaplen: 1518,
        adbHost: '127.0.0.1',
        adbPort: 5037,
      },
      {
        host: 'lab-b',
        runsOn: ['self-hosted', 'phonehome', 'shelf-b'],
        phoneArgs: ['--profile', 'pixel-stock'],
        capture: 'pcapdroid',
        captureInterface: '',
        snaplen: 0,
        adbHost: '127.0.0.1',
        adbPort: 5038,
      },
    ],
  });
});

test('the shipped farm file reads and makes a matrix', () => {
  const farm = parseFarmFile(readFileSync('devices/farm.yaml', 'utf8'), 'devices/farm.yaml');
  const m = farmMatrix(farm);
  assert.ok(m.include.length >= 1);
  for (const job of m.include) assert.deepEqual(job.runsOn.slice(0, 2), ['self-hosted', 'phonehome']);
});

test('an adb server off loopback is allowed with a warning that says why it is unsafe', () => {
  const farm = parseFarmFile(
    TWO_HOSTS.replace('host: 127.0.0.1, port: 5038', 'host: 10.20.0.5, port: 5037'),
    'farm.yaml',
  );
  assert.equal(farm.warnings.length, 1);
  assert.match(
    farm.warnings[0]!,
    /^lab-b: the adb server 10\.20\.0\.5:5037 is not on loopback\. .*no authentication.*SSH tunnel/,
  );
});

/** The ConfigError parseFarmFile throws for text. */
function problem(text: string): ConfigError {
  try {
    parseFarmFile(text, 'farm.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('accepted');
}

test('mistakes are named at their line and field', () => {
  const cases: [string, RegExp][] = [
    ['', /^farm\.yaml:1:1: the file is empty; expected a mapping with formatVersion and hosts$/],
    ['formatVersion: 2\nhosts: []\n', /^farm\.yaml:1:16: formatVersion: expected formatVersion: 1/],
    ['formatVersion: 1\nhosts: []\n', /^farm\.yaml:2:8: hosts: at least one host/],
    // A name a shell would treat specially never reaches the workflow's command line.
    [
      TWO_HOSTS.replace('name: lab-b', 'name: "lab-b; rm -rf /"'),
      /^farm\.yaml:10:11: hosts\[1\]\.name: a short name/,
    ],
    [
      TWO_HOSTS.replace('      - serial: 27161FDH2000AB', '      - serial: "$(id)"'),
      /^farm\.yaml:9:17: hosts\[0\]\.phones\[1\]\.serial: an adb serial/,
    ],
    [
      TWO_HOSTS.replace('    captureInterface: wlan-ap0\n', ''),
      /^farm\.yaml:3:5: hosts\[0\]: captureInterface: the access point interface/,
    ],
    [
      TWO_HOSTS.replace('name: lab-b', 'name: lab-a'),
      /^farm\.yaml:10:11: hosts\[1\]\.name: the name "lab-a" is also hosts\[0\]'s/,
    ],
    [
      TWO_HOSTS.replace('runnerLabel: shelf-b', 'runnerLabel: lab-a'),
      /^farm\.yaml:11:18: hosts\[1\]\.runnerLabel: the runner label "lab-a" is also hosts\[0\]'s/,
    ],
    [
      TWO_HOSTS.replace(
        '      - profile: pixel-stock\n        note',
        '      - serial: a1b2c3d4\n        note',
      ),
      /^farm\.yaml:16:17: hosts\[1\]\.phones\[1\]\.serial: phone a1b2c3d4 is also listed on lab-a/,
    ],
    [
      TWO_HOSTS.replace('      - profile: pixel-stock\n        note', '      - serial: 99AA\n        note'),
      /^farm\.yaml:15:9: hosts\[1\]\.phones\[0\]: lab-b lists other phones by serial/,
    ],
    [
      TWO_HOSTS.replace('      - serial: 27161FDH2000AB', '      - note: which?'),
      /^farm\.yaml:9:9: hosts\[0\]\.phones\[1\]: a phone needs its serial, its profile, or both/,
    ],
    [
      TWO_HOSTS.replace('capture: pcapdroid', 'capture: wireshark'),
      /^farm\.yaml:12:14: hosts\[1\]\.capture: "wireshark" is not one of/,
    ],
    [
      TWO_HOSTS.replace('port: 5038', 'port: 70000'),
      /^farm\.yaml:13:35: hosts\[1\]\.adb\.port: a port from 1 to 65535/,
    ],
    [
      TWO_HOSTS.replace('    phones:\n      - serial: a1b2c3d4', '    phone:\n      - serial: a1b2c3d4'),
      /^farm\.yaml:3:5: hosts\[0\]\.phones: expected a list/,
    ],
    [
      TWO_HOSTS.replace('snaplen: 1518', 'snaplen: 300000'),
      /^farm\.yaml:5:14: hosts\[0\]\.snaplen: at most 262144/,
    ],
  ];
  for (const [text, want] of cases) assert.match(problem(text).message, want);
});

test('an adb server off loopback is warned about wherever it is named; one on loopback is not', () => {
  for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '::ffff:127.0.0.1'])
    assert.equal(remoteAdbWarning(host, 5037), undefined, host);
  for (const host of ['10.20.0.5', 'lab-host.example', '192.168.1.2', '::ffff:10.0.0.1'])
    assert.match(
      remoteAdbWarning(host, 5037) ?? '',
      /is not on loopback\. .*no authentication.*SSH tunnel/,
      host,
    );
});
