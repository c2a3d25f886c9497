import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { TrafficState } from '../contracts.js';
import { SimConfigError } from '../errors.js';
import { activeBehaviours, activeHosts, eventOccurrences, fillIds, fillJson } from './traffic-plan.js';
import { durationSeconds, loadTrafficProfile, parseTrafficProfile } from './traffic-schema.js';

const XIAOMI = 'devices/sim/xiaomi-redmi-note-13.traffic.yaml';
const PIXEL = 'devices/sim/pixel-7.traffic.yaml';

const idle: TrafficState = {
  online: true,
  screenOn: false,
  backupEnabled: false,
  backupRunning: false,
  analyticsConsent: true,
  adsConsent: true,
  accountSignedIn: false,
  simInserted: false,
  cloudMessaging: false,
  locationOn: false,
  ids: {
    imei: '861234567890123',
    androidId: 'a1b2c3d4e5f60718',
    serial: 'SIM0001',
    advertisingId: 'x',
    wifiMac: 'aa:bb:cc:0d:1e:2f',
    imsi: '',
    iccid: '',
    phoneNumber: '',
  },
  packages: ['com.android.chrome'],
  contacts: [],
  events: { contactAdded: 0, smsReceived: 0, smsSent: 0, setupCompleted: 0 },
};

test('the shipped traffic profiles load', async () => {
  for (const f of [XIAOMI, PIXEL]) {
    const p = await loadTrafficProfile(f);
    assert.ok(p.behaviours.length > 5, f);
    assert.deepEqual(Object.keys(p.misbehaviour).sort(), [
      'analytics-after-opt-out',
      ...(f === XIAOMI ? ['cloud-messaging-after-off'] : []),
      'leak-ids',
      'location-after-off',
      'unknown-host',
    ]);
  }
});

test('a bad value points at file:line:col and the field path', () => {
  const text = [
    'formatVersion: 1',
    'profile: x',
    'behaviours:',
    '  - id: a',
    '    package: com.example.app',
    '    hosts: [ok.example.com]',
    '    protocol: tls',
    '    every: soon',
    '',
  ].join('\n');
  assert.throws(
    () => parseTrafficProfile(text, 'bad.traffic.yaml'),
    (e: unknown) =>
      e instanceof SimConfigError &&
      e.line === 8 &&
      e.column === 12 &&
      e.path === 'behaviours[0].every' &&
      e.message.startsWith('bad.traffic.yaml:8:12: behaviours[0].every:'),
  );
});

test('mdns behaviours ask for DNS-SD service types; the others contact host names', () => {
  const profile = (protocol: string, host: string) =>
    [
      'formatVersion: 1',
      'profile: x',
      'behaviours:',
      '  - id: a',
      '    package: com.example.app',
      `    hosts: [${host}]`,
      `    protocol: ${protocol}`,
      '    every: 10m',
      '',
    ].join('\n');
  assert.equal(
    parseTrafficProfile(profile('mdns', '_googlecast._tcp.local'), 'ok.yaml').behaviours[0]!.protocol,
    'mdns',
  );
  assert.throws(
    () => parseTrafficProfile(profile('mdns', 'cast.example.com'), 'm.yaml'),
    (e: unknown) =>
      e instanceof SimConfigError && e.path === 'behaviours[0].hosts[0]' && /service type/.test(e.message),
  );
  assert.throws(
    () => parseTrafficProfile(profile('tls', '_googlecast._tcp.local'), 't.yaml'),
    (e: unknown) =>
      e instanceof SimConfigError && e.path === 'behaviours[0].hosts[0]' && /host name/.test(e.message),
  );
});

test('an unknown key and broken YAML are errors with positions', () => {
  assert.throws(
    () => parseTrafficProfile('formatVersion: 1\nprofile: x\nbehaviour: []\n', 'f.yaml'),
    (e: unknown) => e instanceof SimConfigError && e.line >= 1 && /behaviour/.test(e.message),
  );
  assert.throws(
    () => parseTrafficProfile('formatVersion: 1\nprofile: [x\n', 'g.yaml'),
    (e: unknown) => e instanceof SimConfigError && e.file === 'g.yaml' && e.line > 0,
  );
});

test('durations read as seconds', () => {
  assert.equal(durationSeconds('10m'), 600);
  assert.equal(durationSeconds('250ms'), 0.25);
  assert.equal(durationSeconds(7), 7);
});

test('the Xiaomi profile idles to the measured hosts; consent off stops analytics unless misbehaving', async () => {
  const p = await loadTrafficProfile(XIAOMI);
  const hosts = activeHosts(p, idle, []);
  for (const h of [
    'tracking.intl.miui.com',
    'data.mistat.intl.xiaomi.com',
    'api.ad.intl.xiaomi.com',
    'sdkconfig.ad.intl.xiaomi.com',
    'resolver.msg.global.xiaomi.net',
    'sgp-api.xmpush.global.xiaomi.com',
    'connectivitycheck.gstatic.com',
    'android.clients.google.com',
  ])
    assert.ok(hosts.has(h), h);
  assert.ok(!hosts.has('appbackupapi.micloud.xiaomi.net'));
  const optedOut = activeHosts(p, { ...idle, analyticsConsent: false }, []);
  assert.ok(!optedOut.has('tracking.intl.miui.com'));
  assert.ok(!optedOut.has('data.mistat.intl.xiaomi.com'));
  assert.ok(optedOut.has('api.ad.intl.xiaomi.com'));
  const misbehaving = activeHosts(p, { ...idle, analyticsConsent: false }, ['analytics-after-opt-out']);
  assert.ok(misbehaving.has('tracking.intl.miui.com'));
  const themes = activeHosts(
    p,
    { ...idle, screenOn: true, foregroundPackage: 'com.android.thememanager' },
    [],
  );
  for (const h of ['thm.market.intl.xiaomi.com', 'api.zhuti.intl.xiaomi.com', 't17.market.mi-img.com'])
    assert.ok(themes.has(h), h);
  const ids = (st: TrafficState) => activeBehaviours(p, st, []).map((b) => b.id);
  assert.ok(ids({ ...idle, adsConsent: true }).includes('msa-personalised'));
  assert.ok(!ids({ ...idle, adsConsent: false }).includes('msa-personalised'));
  const backup = activeHosts(p, { ...idle, backupEnabled: true, backupRunning: true }, []);
  assert.ok(backup.has('appbackupapi.micloud.xiaomi.net'));
  assert.equal(activeHosts(p, { ...idle, online: false }, []).size, 0);
  assert.throws(() => activeHosts(p, idle, ['no-such']), /unknown misbehaviour/);
});

test('identifier placeholders are filled', () => {
  assert.equal(fillIds('{imei}-{androidId}', idle.ids), '861234567890123-a1b2c3d4e5f60718');
});

test('duplicate behaviour ids are refused', async () => {
  const text = (await readFile(PIXEL, 'utf8')).replace('id: location', 'id: experiments');
  assert.throws(() => parseTrafficProfile(text, PIXEL), /duplicate behaviour id "experiments"/);
});

test('identifier templates: functions apply right to left; a JSON body gets the package list for "{apps}"', async () => {
  const { createHash } = await import('node:crypto');
  const { fillIds, fillJson } = await import('./traffic-plan.js');
  assert.equal(fillIds('imei={imei}', idle.ids), 'imei=861234567890123');
  assert.equal(
    fillIds('{sha256:imei}', idle.ids),
    createHash('sha256').update('861234567890123').digest('hex'),
  );
  assert.equal(
    fillIds('{md5:nosep:lower:wifiMac}', idle.ids),
    createHash('md5').update('aabbcc0d1e2f').digest('hex'),
  );
  assert.equal(fillIds('{hex:serial}', idle.ids), Buffer.from('SIM0001').toString('hex'));
  assert.equal(fillIds('{base64:androidId}', idle.ids), Buffer.from('a1b2c3d4e5f60718').toString('base64'));
  assert.equal(
    fillIds('{rot13:imei}', idle.ids),
    '{rot13:imei}',
    'an unknown function leaves the template as written',
  );
  assert.deepEqual(fillJson({ a: ['{serial}', 1], apps: '{apps}' }, idle), {
    a: ['SIM0001', 1],
    apps: ['com.android.chrome'],
  });
});

test('cloud messaging on with a SIM in registers the number and IMSI with the account service; off, or without a SIM, it does not', async () => {
  const p = await loadTrafficProfile(XIAOMI);
  const sim = {
    ...idle,
    simInserted: true,
    ids: { ...idle.ids, imsi: '234150123456789', phoneNumber: '+447700900123' },
  };
  const on = activeBehaviours(p, { ...sim, cloudMessaging: true }, []);
  const register = on.find((b) => b.id === 'cloud-messaging-register');
  assert.ok(register, 'registered with cloud messaging on');
  assert.deepEqual(register.hosts, ['api.account.xiaomi.com']);
  assert.ok(on.some((b) => b.id === 'cloud-messaging-sync'));
  const off = activeBehaviours(p, { ...sim, cloudMessaging: false }, []).map((b) => b.id);
  assert.ok(!off.includes('cloud-messaging-register') && !off.includes('cloud-messaging-sync'));
  assert.ok(off.includes('sim-activation'), 'the SIM alone still activates, with no identifier in the body');
  const noSim = activeBehaviours(p, { ...idle, cloudMessaging: true }, []).map((b) => b.id);
  assert.ok(!noSim.includes('cloud-messaging-register'), 'no SIM, no number to register');
  assert.equal(
    fillIds('{phoneNumber}/{imsi}/{sha256:imsi}', sim.ids).split('/').slice(0, 2).join('/'),
    '+447700900123/234150123456789',
  );
  assert.equal(fillIds('[{imsi}]', idle.ids), '[]', 'empty while no SIM is in');
});

test('a behaviour on an event answers each rise of its count, only while its conditions hold', async () => {
  const p = await loadTrafficProfile(XIAOMI);
  const on: TrafficState = {
    ...idle,
    simInserted: true,
    cloudMessaging: true,
    contacts: ['+44 7700 900123'],
  };
  const ids = (bs: { id: string }[]) => bs.map((b) => b.id);
  // Nothing periodic is an event behaviour, and the first state seen answers nothing.
  assert.ok(!ids(activeBehaviours(p, on, [])).includes('contacts-lookup'));
  assert.deepEqual(
    eventOccurrences(
      p,
      undefined,
      { ...on, events: { contactAdded: 3, smsReceived: 1, smsSent: 0, setupCompleted: 0 } },
      [],
    ),
    [],
  );
  const before = { contactAdded: 0, smsReceived: 0, smsSent: 0, setupCompleted: 0 };
  assert.deepEqual(
    ids(
      eventOccurrences(
        p,
        before,
        { ...on, events: { contactAdded: 2, smsReceived: 1, smsSent: 1, setupCompleted: 0 } },
        [],
      ),
    ),
    ['contacts-lookup', 'contacts-lookup', 'sms-sync-received', 'sms-sync-sent'],
  );
  // Cloud messaging off: nothing, unless the phone misbehaves.
  const off = {
    ...on,
    cloudMessaging: false,
    events: { contactAdded: 1, smsReceived: 1, smsSent: 1, setupCompleted: 0 },
  };
  assert.deepEqual(eventOccurrences(p, before, off, []), []);
  assert.deepEqual(ids(eventOccurrences(p, before, off, ['cloud-messaging-after-off'])), [
    'contacts-lookup',
    'sms-sync-received',
    'sms-sync-sent',
  ]);
  // The lookup carries the phone's number and the contacts' numbers.
  const lookup = p.behaviours.find((b) => b.id === 'contacts-lookup')!;
  const st = { ...on, ids: { ...on.ids, phoneNumber: '+447700900999' } };
  assert.deepEqual(fillJson(lookup.body!.json, st), {
    ownNumber: '+447700900999',
    contacts: ['+44 7700 900123'],
    model: '23129RAA4G',
  });
});

test('a behaviour has a period or an event, never both or neither', () => {
  const file = (extra: string) =>
    [
      'formatVersion: 1',
      'profile: x',
      'behaviours:',
      '  - id: a',
      '    package: com.example.app',
      '    hosts: [example.com]',
      '    protocol: tls',
      extra,
    ].join('\n');
  assert.throws(
    () => parseTrafficProfile(file('    every: 5m\n    on: smsSent'), 'both.yaml'),
    /either every/,
  );
  assert.throws(() => parseTrafficProfile(file(''), 'neither.yaml'), /either every/);
  assert.throws(() => parseTrafficProfile(file('    on: callPlaced'), 'bad.yaml'), /on/);
  assert.equal(parseTrafficProfile(file('    on: smsSent'), 'ok.yaml').behaviours[0]!.on, 'smsSent');
});
