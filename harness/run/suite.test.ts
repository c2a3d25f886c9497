import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyzeStream } from '../analyze.js';
import type { DeviceFacts } from '../device/facts.js';
import { parseProfile, typedVariables } from '../device/profiles.js';
import { loadAllowlist } from '../verdict/allowlist.js';
import { judge } from '../verdict/verdict.js';
import { LiveTraffic } from './live-traffic.js';
import type { Scenario } from './scenario.js';
import { outcomeError, profileSkipReason, skipReason, slots, suiteExitCode } from './suite.js';

const CAPTURE = 'fixtures/captures/mixed-session.pcapng';
// After an analytics opt-out, the fixture's OneTrack flows are forbidden: violations to count.
const ALLOWLIST = 'devices/xiaomi-miui-global/allowlists/analytics-opt-out.yaml';

describe('live traffic figures', () => {
  it('count, from bytes in odd chunks, what the final analysis and verdict count', async () => {
    const bytes = new Uint8Array(readFileSync(CAPTURE));
    const allowlist = loadAllowlist(ALLOWLIST, (p) => readFileSync(p, 'utf8'));
    const whole = await analyzeStream(
      (async function* () {
        yield bytes;
      })(),
    );
    const live = new LiveTraffic(allowlist, 'canary.phonehome.test', whole.device.addrs);
    assert.deepEqual(live.stats(), { connections: 0, names: 0, violations: 0, bytes: 0 });
    for (let i = 0; i < bytes.length; i += 977) live.push(bytes.subarray(i, i + 977));
    const got = live.stats();
    const verdict = judge(whole.flows, allowlist, { captureComplete: true }); // as a run with no drops judges
    assert.ok(
      whole.flows.length > 0 && verdict.violations.length > 0,
      'the fixture has flows and violations',
    );
    assert.equal(got.connections, whole.flows.length);
    assert.equal(got.violations, verdict.violations.length);
    assert.equal(got.names, new Set(whole.flows.flatMap((f) => f.names.map((n) => n.name))).size);
    assert.equal(got.bytes, bytes.length);
  });

  it('stop quietly on bytes that are not a capture', () => {
    const allowlist = loadAllowlist(ALLOWLIST, (p) => readFileSync(p, 'utf8'));
    const live = new LiveTraffic(allowlist, 'canary.phonehome.test', []);
    live.push(new TextEncoder().encode('this is not a pcap file at all, not even close'));
    assert.equal(live.stats().connections, 0);
  });
});

describe('suite exit code', () => {
  it('is 1 for any failure, 3 for broken without failures, else 0', () => {
    const s = { passed: 1, failed: 0, broken: 0, skipped: 2, results: [], resultsDir: '' };
    assert.equal(suiteExitCode(s), 0);
    assert.equal(suiteExitCode({ ...s, broken: 1 }), 3);
    assert.equal(suiteExitCode({ ...s, broken: 1, failed: 1 }), 1);
  });
});

describe('phone slots (--parallelism)', () => {
  it('let at most N phones run at once, the others in the order they asked', async () => {
    const s = slots(2);
    const order: string[] = [];
    const take = (name: string) => s.acquire().then(() => order.push(name));
    await Promise.all([take('a'), take('b')]);
    const c = take('c');
    const d = take('d');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['a', 'b'], 'c and d wait');
    s.release();
    await c;
    assert.deepEqual(order, ['a', 'b', 'c']);
    s.release();
    await d;
    s.release();
    s.release();
    // All free again: two more go straight in.
    await Promise.all([take('e'), take('f')]);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

describe('outcome errors', () => {
  it('give reporters the run status, the reason as message and the record line as trace', () => {
    assert.equal(outcomeError({ outcome: 'passed', reason: '', violations: [] }), undefined);
    const failed = outcomeError({
      outcome: 'failed',
      reason: '1 violations',
      violations: [{ subject: 'api.ad.intl.xiaomi.com', ruleText: 'no rule matched', step: 'idle 60 s' }],
      verdict: { violations: [{}], unmetExpectations: [], budgets: [] } as never,
    })!;
    assert.equal(failed.name, 'AssertionError');
    assert.equal(failed.message, '1 violations');
    assert.equal(
      failed.stack,
      '[phonehome outcome=failed violations]\napi.ad.intl.xiaomi.com during idle 60 s: no rule matched',
    );
    const broken = outcomeError({
      outcome: 'broken',
      reason: 'phone lost: gone',
      violations: [],
      broken: { stage: 'step', kind: 'device-lost', detail: 'phone lost: gone' },
    })!;
    assert.equal(broken.constructor, Error);
    assert.equal(broken.message, 'phone lost: gone');
    assert.equal(broken.stack, '[phonehome outcome=broken stage=step kind=device-lost]');
  });
});

describe('whether a scenario applies to a profile', () => {
  const profile = (extra: string) =>
    parseProfile(
      `name: p\ndescription: d\nmatch: { ro.product.manufacturer: X }\n${extra}\nactions:\n  home: { adb: input keyevent 3 }\n`,
      'devices/p/profile.yaml',
    );
  const scenario: Scenario = {
    name: 's',
    description: 'd',
    needs: [],
    requires: { 'themes-app': "the maker's Themes app" },
    prepare: [],
    steps: [{ kind: 'action', name: 'go home', action: 'home' }],
  };
  it('comes from the capabilities it requires and the actions it uses, never from files', () => {
    assert.equal(profileSkipReason(scenario, profile('capabilities: [themes-app]')), undefined);
    assert.equal(
      profileSkipReason(scenario, profile('capabilities: []')),
      "the p profile does not declare themes-app (the maker's Themes app) among its capabilities",
    );
    const other = {
      ...scenario,
      requires: {},
      steps: [{ kind: 'action' as const, name: 'x', action: 'themes.open' }],
    };
    assert.equal(profileSkipReason(other, profile('')), 'the p profile has no action "themes.open"');
    // A step only for phones with a capability: the others need not have its action.
    const toggled = {
      ...other,
      steps: [
        { kind: 'action' as const, name: 'x', action: 'messaging.cloudOff', ifCapability: 'cloud-messaging' },
      ],
    };
    assert.equal(profileSkipReason(toggled, profile('')), undefined);
    assert.equal(
      profileSkipReason(toggled, profile('capabilities: [cloud-messaging]')),
      'the p profile has no action "messaging.cloudOff"',
    );
  });
});

describe('a scenario whose UI steps type from the environment', () => {
  const profile = parseProfile(
    [
      'name: p',
      'description: d',
      'match: { ro.product.manufacturer: X }',
      'ui:',
      '  name: { id: "a:id/name" }',
      '  password: { id: "a:id/password" }',
      'actions:',
      '  account.signIn:',
      '    ui:',
      '      - type: name',
      '        env: LAB_ACCOUNT',
      '      - type: password',
      '        env: LAB_PASSWORD',
      '',
    ].join('\n'),
    'devices/p/profile.yaml',
  );
  const scenario: Scenario = {
    name: 's',
    description: 'd',
    needs: [],
    prepare: [],
    steps: [{ kind: 'action', name: 'sign in', action: 'account.signIn' }],
  };
  const facts = { rooted: false, pcapdroidInstalled: false, simCard: false } as DeviceFacts;
  it('is skipped, naming each variable that is not set; runs when both are', () => {
    assert.deepEqual(typedVariables(profile.actions['account.signIn']!), ['LAB_ACCOUNT', 'LAB_PASSWORD']);
    assert.equal(
      skipReason(scenario, facts, profile, true, { LAB_ACCOUNT: 'someone' }),
      'step "sign in" (account.signIn) types $LAB_PASSWORD, which is not set on this lab host',
    );
    assert.equal(
      skipReason(scenario, facts, profile, true, { LAB_ACCOUNT: '' }),
      'step "sign in" (account.signIn) types $LAB_ACCOUNT and $LAB_PASSWORD, which are not set on this lab host',
    );
    assert.equal(
      skipReason(scenario, facts, profile, true, { LAB_ACCOUNT: 'a', LAB_PASSWORD: 'b' }),
      undefined,
    );
    assert.match(skipReason(scenario, facts, profile, false, {}) ?? '', /needs UI automation/);
  });
});

describe('a profile UI step that types', () => {
  const load = (step: string) =>
    parseProfile(
      `name: p\ndescription: d\nmatch: { ro.product.manufacturer: X }\nui:\n  name: { id: "a:id/n" }\nactions:\n  a:\n    ui:\n      - ${step}\n`,
      'devices/p/profile.yaml',
    );
  it('names a selector of the ui map and an environment variable, never a value', () => {
    assert.deepEqual(load('{ type: name, env: LAB_ACCOUNT }').actions['a']!.ui, [
      { type: 'name', env: 'LAB_ACCOUNT' },
    ]);
    assert.throws(
      () => load('{ type: nobody, env: LAB_ACCOUNT }'),
      /profile\.yaml:9:9: actions\.a\.ui\[0\]: selector "nobody" is not in this profile.s ui map/,
    );
    assert.throws(() => load('{ type: name, env: "lab account" }'), /an environment variable name/);
    assert.throws(() => load('{ type: name, password: hunter2 }'), /a UI step is one of/);
    assert.throws(() => load('{ type: name, env: LAB_ACCOUNT, text: x }'), /a UI step is one of/);
  });
  it('types text written in the profile, which is no secret and needs no variable', () => {
    const p = load('{ type: name, text: "phonehome test contact" }');
    assert.deepEqual(p.actions['a']!.ui, [{ type: 'name', text: 'phonehome test contact' }]);
    assert.deepEqual(typedVariables(p.actions['a']!), []);
    assert.throws(
      () => load('{ type: name, text: "" }'),
      /9:29: actions\.a\.ui\[0\]\.text: expected the text to type/,
    );
  });
});

describe('a scenario with a lab step', () => {
  const profile = parseProfile(
    'name: p\ndescription: d\nmatch: { ro.product.manufacturer: X }\n',
    'devices/p/profile.yaml',
  );
  const scenario: Scenario = {
    name: 's',
    description: 'd',
    needs: [],
    prepare: [],
    steps: [{ kind: 'lab', name: 'put the SIM in', hook: 'sim.insert' }],
  };
  const facts = { rooted: false, pcapdroidInstalled: false, simCard: false } as DeviceFacts;
  it('is skipped, naming the hook, where the lab gives no command for it', () => {
    assert.equal(
      skipReason(scenario, facts, profile, true, {}, {}),
      'step "put the SIM in" needs the lab hook sim.insert, a command that will put the phone\'s SIM card in (hooks: in the config), which this lab does not give',
    );
    assert.equal(
      skipReason(scenario, facts, profile, true, {}, { 'sim.insert': ['simswitch', 'in'] }),
      undefined,
    );
  });
  it('a scenario that starts with a hook (a factory reset) is skipped, naming it, without its command', () => {
    const reset: Scenario = { ...scenario, steps: [], start: { name: 'factory reset', hook: 'phone.reset' } };
    assert.match(
      skipReason(reset, facts, profile, true, {}, { 'sim.insert': ['x'] }) ?? '',
      /^it starts with "factory reset", the lab hook phone\.reset, a command that will factory-reset the phone .* which this lab does not give$/,
    );
    assert.equal(
      skipReason(reset, facts, profile, true, {}, { 'phone.reset': ['labreset', '{serial}'] }),
      undefined,
    );
  });
});
