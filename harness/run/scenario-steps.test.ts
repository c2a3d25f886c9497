import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { parseProfile } from '../device/profiles.js';
import type { DeviceControl } from './device-control.js';
import { runStep } from './scenario-steps.js';
import type { Ui, UiSelector } from './ui.js';

const PROFILE = parseProfile(
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

/** A Ui that records what is typed where; a field named "password" refuses, quoting the text. */
function fakeUi(typed: [UiSelector, string][], refuse = false): Ui {
  const nope = () => Promise.reject(new Error('not used'));
  return {
    tap: nope,
    tapByText: nope,
    tapById: nope,
    tapByDescription: nope,
    scrollTo: nope,
    setToggle: nope,
    back: nope,
    home: nope,
    pageSource: nope,
    screenshot: nope,
    async typeText(selector, text) {
      if (refuse && selector.id === 'a:id/password')
        throw new Error(`Cannot set the element to '${text}': it does not take text`);
      typed.push([selector, text]);
      return { detail: `typed into id "${selector.id}"`, screenshot: new Uint8Array([1]) };
    },
  };
}

test('a type step types the variable into its field; the record names the variable, never the value', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-steps-'));
  try {
    const typed: [UiSelector, string][] = [];
    const step = { kind: 'action' as const, name: 'sign in', action: 'account.signIn' };
    const ctx = {
      device: {} as DeviceControl,
      profile: PROFILE,
      ui: fakeUi(typed),
      dir,
      typed: { LAB_ACCOUNT: 'lab.tester@example.org', LAB_PASSWORD: 'hunter2' },
    };
    const done = await runStep(ctx, step, 1, {});
    assert.equal(done.ok, true);
    assert.equal(
      done.detail,
      'UI: typed $LAB_ACCOUNT into id "a:id/name"; typed $LAB_PASSWORD into id "a:id/password"',
    );
    assert.equal(done.screenshot, undefined, 'no screenshot of a screen that may show the account');
    assert.deepEqual(typed, [
      [{ id: 'a:id/name' }, 'lab.tester@example.org'],
      [{ id: 'a:id/password' }, 'hunter2'],
    ]);

    // A field that refuses the text quotes it in its error: the record has the variable instead.
    const refused = await runStep({ ...ctx, ui: fakeUi([], true) }, step, 2, {});
    assert.equal(refused.ok, false);
    assert.ok(!refused.detail.includes('hunter2'), refused.detail);
    assert.match(refused.detail, /Cannot set the element to '\$LAB_PASSWORD'/);

    // A variable without a value: the step fails, naming it.
    const unset = await runStep({ ...ctx, typed: { LAB_ACCOUNT: 'x' } }, step, 3, {});
    assert.equal(unset.ok, false);
    assert.match(unset.detail, /\$LAB_PASSWORD is not set: nothing to type$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a lab step runs the lab's command for its hook, the phone's serial in place of {serial}, no shell", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-steps-'));
  try {
    const node = process.execPath;
    const script =
      'console.log("args: " + process.argv.slice(1).join("|")); process.exit(Number(process.argv[2] ?? 0))';
    const ctx = (argv: string[] | undefined) => ({
      device: {} as DeviceControl,
      dir,
      serial: '127.0.0.1:5555; rm -rf /',
      ...(argv ? { hooks: { 'sim.insert': argv } } : {}),
    });
    const step = { kind: 'lab' as const, name: 'put the SIM in', hook: 'sim.insert' as const };
    const ok = await runStep(ctx([node, '-e', script, '--', 'in', '0', '{serial}']), step, 1, {});
    assert.equal(ok.ok, true);
    assert.equal(ok.provider, 'lab');
    // The serial is one argument, as it is: no shell ever sees it.
    assert.equal(
      ok.detail,
      `lab hook sim.insert: ${basename(node)} exit 0: args: in|0|127.0.0.1:5555; rm -rf /`,
    );
    const failed = await runStep(ctx([node, '-e', script, '--', 'in', '3']), step, 2, {});
    assert.equal(failed.ok, false);
    assert.match(failed.detail, /^lab hook sim\.insert: \S+ exited 3: args: in\|3$/);
    const slow = await runStep(ctx([node, '-e', 'setTimeout(() => {}, 10000)']), step, 3, {
      deadlineMs: 300,
    });
    assert.match(slow.detail, /did not end within 300 ms/);
    const missing = await runStep(ctx(['/nonexistent/simswitch']), step, 4, {});
    assert.equal(missing.ok, false);
    assert.match(missing.detail, /ENOENT/);
    const none = await runStep(ctx(undefined), step, 5, {});
    assert.deepEqual([none.ok, none.detail], [false, 'the lab gives no command for the hook sim.insert']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a type step with text written in the profile types it, shows it, and keeps the screenshot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-steps-'));
  try {
    const profile = parseProfile(
      [
        'name: p',
        'description: d',
        'match: { ro.product.manufacturer: X }',
        'capabilities: [contacts-app]',
        'ui:',
        '  name: { id: "a:id/name" }',
        'actions:',
        '  contacts.add:',
        '    ui:',
        '      - type: name',
        '        text: phonehome test contact',
        '',
      ].join('\n'),
      'devices/p/profile.yaml',
    );
    const typed: [UiSelector, string][] = [];
    const ctx = { device: {} as DeviceControl, profile, ui: fakeUi(typed), dir };
    const done = await runStep(ctx, { kind: 'action', name: 'add', action: 'contacts.add' }, 1, {});
    assert.equal(done.ok, true);
    assert.equal(done.detail, 'UI: typed "phonehome test contact" into id "a:id/name"');
    assert.equal(done.screenshot, 'step-1.png');
    assert.deepEqual(typed, [[{ id: 'a:id/name' }, 'phonehome test contact']]);

    // A step for phones with a capability this profile does not declare: skipped, the scenario goes on.
    const other = await runStep(
      ctx,
      { kind: 'action', name: 'cloud on', action: 'messaging.cloudOn', ifCapability: 'cloud-messaging' },
      2,
      {},
    );
    assert.deepEqual(other, {
      ok: true,
      notForThisPhone: true,
      provider: 'none',
      detail: 'left out: only for phones with cloud-messaging, which the p profile does not declare',
    });
    // Declared: the step runs.
    const declared = await runStep(
      ctx,
      { kind: 'action', name: 'add', action: 'contacts.add', ifCapability: 'contacts-app' },
      3,
      {},
    );
    assert.equal(declared.ok, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
