import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, UsageError } from '../errors.js';
import { bundledDevicesDir } from '../project-dir.js';
import { resolveSettings, unknownScenario } from './settings.js';
import { parseSimSpec } from './sim-lab.js';

describe('run settings', () => {
  const known = ['idle', 'theme-store', 'backup-enabled'];
  const base = { speed: '60', retries: '0' };

  it('takes the command line over the config over the defaults', () => {
    const config = {
      capture: { backend: 'cap' as const, interface: 'wlan-ap', snaplen: 512 },
      adb: { host: '10.1.1.1', port: 5038, bin: '/opt/adb' },
      out: 'nightly',
      parallelism: 2,
      canaryDomain: 'canary.lab.example',
      scenarios: ['idle'],
    };
    const fromConfig = resolveSettings(base, config, 'lab.json', known, {}, true);
    assert.deepEqual(fromConfig, {
      scenarios: ['idle'],
      out: 'nightly',
      capture: 'cap',
      interface: 'wlan-ap',
      snaplen: 512,
      adb: { host: '10.1.1.1', port: 5038, bin: '/opt/adb' },
      devicesDir: bundledDevicesDir(), // no devicesDir in the config: phonehome's own
      parallelism: 2,
      canaryDomain: 'canary.lab.example',
      hooks: {}, // the config gives no lab hooks
      appium: { local: {} }, // the driver installed, no appium key: phonehome's own
      history: { dir: 'nightly/history', accept: false, keep: 10 }, // baselines beside the output
    });
    const fromFlags = resolveSettings(
      {
        ...base,
        scenario: ['theme-store,idle'],
        out: 'here',
        capture: 'tcpdump',
        adbPort: '6000',
        parallelism: '1',
        snaplen: '1518',
      },
      config,
      'lab.json',
      known,
      {},
    );
    assert.deepEqual(fromFlags.scenarios, ['theme-store', 'idle']);
    assert.equal(fromFlags.out, 'here');
    assert.equal(fromFlags.capture, 'tcpdump');
    assert.equal(fromFlags.adb.port, 6000);
    assert.equal(fromFlags.adb.host, '10.1.1.1');
    assert.equal(fromFlags.parallelism, 1);
    assert.equal(fromFlags.snaplen, 1518);
    for (const bad of ['-1', '1.5', '300000', 'all'])
      assert.throws(
        () => resolveSettings({ ...base, snaplen: bad }, {}, undefined, known, {}),
        (e: Error) => e instanceof UsageError && /^--snaplen: /.test(e.message),
        bad,
      );
    const defaults = resolveSettings(base, {}, undefined, known, { ANDROID_ADB_SERVER_PORT: '5099' });
    assert.deepEqual(defaults.scenarios, known);
    // A scenario that runs only when named is left out of the default set, and runs when named.
    const byDefault = ['idle', 'theme-store'];
    assert.deepEqual(resolveSettings(base, {}, undefined, known, {}, false, byDefault).scenarios, byDefault);
    assert.deepEqual(
      resolveSettings({ ...base, scenario: ['backup-enabled'] }, {}, undefined, known, {}, false, byDefault)
        .scenarios,
      ['backup-enabled'],
    );
    assert.equal(defaults.out, 'reports');
    assert.equal(defaults.capture, 'tcpdump');
    assert.deepEqual(defaults.adb, { host: '127.0.0.1', port: 5099, bin: 'adb' });
    assert.equal(defaults.canaryDomain, 'canary.phonehome.test');
    assert.equal(defaults.parallelism, undefined);
    assert.deepEqual(defaults.history, { dir: 'reports/history', accept: false, keep: 10 });
    // The history: flags over the config; --no-history (or history: false) turns drift off.
    const lab = { history: { dir: 'lab/history', accept: true, keep: 3 } };
    assert.deepEqual(resolveSettings(base, lab, 'lab.json', known, {}).history, {
      dir: 'lab/history',
      accept: true,
      keep: 3,
    });
    assert.deepEqual(
      resolveSettings({ ...base, history: 'h', accept: false }, lab, 'lab.json', known, {}).history,
      {
        dir: 'h',
        accept: false,
        keep: 3,
      },
    );
    assert.equal(resolveSettings({ ...base, history: false }, lab, 'lab.json', known, {}).history, undefined);
    assert.equal(resolveSettings(base, { history: false }, 'lab.json', known, {}).history, undefined);
    assert.throws(
      () => resolveSettings({ ...base, history: false, accept: true }, {}, undefined, known, {}),
      /--accept needs a history folder/,
    );
  });

  it('interception: off by default, from the config or --intercept, off with --no-intercept', () => {
    assert.equal(resolveSettings(base, {}, undefined, known, {}).intercept, undefined);
    const env = { XDG_DATA_HOME: '/data' };
    assert.deepEqual(
      resolveSettings({ ...base, intercept: 'mitmproxy' }, {}, undefined, known, env).intercept,
      {
        mode: 'mitmproxy',
        ignoreHosts: [],
        confdir: '/data/phonehome/mitmproxy',
        onFailure: 'broken',
        bodyCap: 65536,
        installCa: true,
      },
    );
    const lab = {
      intercept: {
        mode: 'mitmproxy' as const,
        ignoreHosts: ['^android\\.clients\\.google\\.com$'],
        onFailure: 'warn' as const,
        installCa: false,
        lanInterface: 'wlan-ap',
      },
    };
    const s = resolveSettings(base, lab, 'lab.json', known, env).intercept;
    assert.equal(s?.onFailure, 'warn');
    assert.equal(s?.installCa, false);
    assert.equal(s?.lanInterface, 'wlan-ap');
    assert.equal(
      resolveSettings({ ...base, intercept: false }, lab, 'lab.json', known, env).intercept,
      undefined,
    );
    assert.throws(
      () => resolveSettings({ ...base, intercept: 'sslsplit' }, {}, undefined, known, env),
      /--intercept: mitmproxy is the one mode there is, not sslsplit/,
    );
  });

  it('refuses unknown scenarios, naming the config field when they come from the file', () => {
    assert.throws(
      () => resolveSettings({ ...base, scenario: ['idel'] }, {}, undefined, known, {}),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === `no scenario "idel" (did you mean idle?); known: ${known.join(', ')}`,
    );
    // Nothing close: no guess; a name with control characters is shown quoted, escaped.
    assert.equal(unknownScenario('zzzzzzzz', ['idle']), 'no scenario "zzzzzzzz"; known: idle');
    assert.equal(unknownScenario('a\u001b[2Jb', ['idle']), 'no scenario "a\\u001b[2Jb"; known: idle');
    assert.equal(
      unknownScenario('first-strat', ['first-start', 'first-start-defaults']),
      'no scenario "first-strat" (did you mean first-start?); known: first-start, first-start-defaults',
    );
    assert.throws(
      () => resolveSettings(base, { scenarios: ['idle', 'nope'] }, 'lab.json', known, {}),
      (e: unknown) =>
        e instanceof ConfigError && e.message.startsWith('lab.json: scenarios[1]: no scenario "nope"'),
    );
    assert.throws(
      () => resolveSettings({ ...base, capture: 'wireshark' }, {}, undefined, known, {}),
      UsageError,
    );
    assert.throws(() => resolveSettings({ ...base, parallelism: '0' }, {}, undefined, known, {}), UsageError);
  });

  it("drives UI steps through phonehome's own Appium by default when UiAutomator2 is installed", () => {
    const on = resolveSettings(base, {}, undefined, known, {}, true);
    assert.deepEqual(on.appium, { local: {} });
    assert.equal(on.noUi, undefined);
    const missing = resolveSettings(base, {}, undefined, known, {}, false);
    assert.equal(missing.appium, undefined);
    assert.match(missing.noUi ?? '', /UiAutomator2 driver is not installed/);
    const flag = resolveSettings(
      { ...base, ui: false },
      { appium: { local: {} } },
      'lab.json',
      known,
      {},
      true,
    );
    assert.equal(flag.appium, undefined, '--no-ui wins over the config');
    assert.equal(flag.noUi, '--no-ui');
    const off = resolveSettings(base, { appium: false }, 'lab.json', known, {}, true);
    assert.equal(off.appium, undefined);
    assert.match(off.noUi ?? '', /appium: false/);
    const remote = resolveSettings(
      base,
      { appium: { url: 'http://appium.lab:4723' } },
      'lab.json',
      known,
      {},
      false,
    );
    assert.deepEqual(remote.appium, { url: 'http://appium.lab:4723' });
  });

  it('reads simulated phone specs', () => {
    assert.deepEqual(parseSimSpec('xiaomi-redmi-note-13+unknown-host+leak-ids'), {
      profile: 'xiaomi-redmi-note-13',
      misbehave: ['unknown-host', 'leak-ids'],
    });
    assert.throws(() => parseSimSpec('Bad Name'), UsageError);
  });
});
