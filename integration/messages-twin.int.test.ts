/**
 * The 2014 pair on a simulated Xiaomi with a SIM in (F-Secure: a Redmi 1S sent the phone number and,
 * with Mi Cloud on, the IMSI to api.account.xiaomi.com): `phonehome run` through the compiled CLI runs
 * messages-cloud-on and its consent-off twin messages-cloud-off, turning Xiaomi Cloud › Messages on
 * and off through the real Appium and UiAutomator2 driver, with mitmproxy reading inside TLS. With
 * cloud messaging on, the account service receives the number and the IMSI (leaks found inside TLS,
 * allowed by the scenario's identifier rules); with it off, neither leaves the phone; the pair is
 * compared side by side. A simulated Pixel in the same run skips both for the capability it lacks.
 * Then contacts-messages and its cloud-on twin: a contact saved, an SMS received (lab hook) and one
 * sent by UI; with cloud messaging on the contact lookup carries the phone's number, with it off not.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TwinComparison } from '../harness/drift/twins.js';
import type { RunResult } from '../harness/record/run-record.js';
import type { Verdict } from '../harness/verdict/verdict.js';
import { gate } from '../testing/gate.js';
import { type CliRun, phonehomeProcess, putLabsAway } from './cli-process.js';
import { freePort } from './free-port.js';

const exec = promisify(execFile);
const hasMitm = await exec('mitmdump', ['--version']).then(
  () => true,
  () => false,
);
const hasAppium = existsSync(resolve('node_modules/.bin/appium'));
const group = gate(
  process.getuid?.() !== 0
    ? 'needs root (network namespaces, firewall rules)'
    : !hasMitm
      ? 'needs mitmproxy (make setup)'
      : !hasAppium
        ? 'needs Appium (make setup)'
        : false,
);

group.describe('the 2014 pair: cloud messaging on and off with a SIM in', () => {
  let out: string;
  let ran: CliRun | undefined;

  group.before(async () => {
    out = await mkdtemp(join(tmpdir(), 'phonehome-messages-'));
  });
  group.after(async () => {
    await putLabsAway([ran?.out]);
    await rm(out, { recursive: true, force: true });
  });

  group.it(
    'on: number and IMSI reach the account service inside TLS; off: neither leaves; the pair side by side',
    async () => {
      const port = await freePort();
      ran = await phonehomeProcess([
        'run',
        '--sim',
        'xiaomi-redmi-note-13',
        'pixel-7',
        '--sim-card',
        '--sim-rooted',
        '--intercept',
        'mitmproxy',
        '--scenario',
        'messages-cloud-on',
        'messages-cloud-off',
        'contacts-messages',
        'contacts-messages-cloud-on',
        '--speed',
        '240',
        '--no-history',
        '--plain',
        '--adb-port',
        String(port),
        '--out',
        out,
      ]);
      assert.equal(ran.code, 0, ran.out);
      // The Pixel has no maker cloud messaging: both skipped for the capability, not for a missing file.
      assert.match(ran.out, /messages-cloud-on[^\n]*does not declare cloud-messaging/);

      const runs = join(out, 'runs');
      const night = readdirSync(runs)[0]!;
      let xiaomi: string | undefined;
      for (const phone of readdirSync(join(runs, night))) {
        const dev = JSON.parse(
          await readFile(join(runs, night, phone, 'messages-cloud-on', 'device.json'), 'utf8').catch(
            () => '{}',
          ),
        );
        if (dev.facts?.manufacturer === 'Xiaomi' || dev.manufacturer === 'Xiaomi')
          xiaomi = join(runs, night, phone);
      }
      assert.ok(xiaomi, 'the Xiaomi ran messages-cloud-on');
      const read = async <T>(scenario: string, file: string): Promise<T> =>
        JSON.parse(await readFile(join(xiaomi!, scenario, file), 'utf8')) as T;

      const on = await read<Verdict>('messages-cloud-on', 'verdict.json');
      const onResult = await read<RunResult>('messages-cloud-on', 'result.json');
      assert.equal(onResult.outcome, 'passed', onResult.reason);
      const toAccount = (on.identifierLeaks ?? []).filter((j) => j.subject === 'api.account.xiaomi.com');
      for (const kind of ['phone-number', 'imsi'] as const) {
        const j = toAccount.find((x) => x.leak.kind === kind);
        assert.ok(j, `${kind} sent to api.account.xiaomi.com: ${JSON.stringify(on.identifierLeaks)}`);
        assert.equal(j.status, 'allowed', j.ruleText);
        assert.match(
          j.leak.place,
          /^inside TLS \(HTTP\/1\.1\): body JSON/,
          'read inside TLS by interception',
        );
        assert.doesNotMatch(JSON.stringify(j), /447700900123|234150123456789/, 'masked in the verdict');
      }
      assert.ok(
        on.judgements.some((f) => f.subject === 'smsapi.micloud.xiaomi.net'),
        'messages synced with Mi Cloud',
      );
      // The toggle was turned through Settings › Xiaomi Cloud › Messages by Appium.
      const turnedOn = onResult.phases.find((p) => p.name === 'turn cloud messaging on');
      assert.equal(turnedOn?.provider, 'ui', JSON.stringify(turnedOn));

      const off = await read<Verdict>('messages-cloud-off', 'verdict.json');
      const offResult = await read<RunResult>('messages-cloud-off', 'result.json');
      assert.equal(offResult.outcome, 'passed', offResult.reason);
      assert.ok(off.intercept && off.intercept.decryptedFlows > 0, 'the off run was read inside TLS too');
      const sim = (off.identifierLeaks ?? []).filter(
        (j) => j.leak.kind === 'phone-number' || j.leak.kind === 'imsi',
      );
      assert.deepEqual(sim, [], 'neither the number nor the IMSI leaves the phone with cloud messaging off');
      assert.ok(
        off.judgements.some((f) => f.subject === 'api.account.xiaomi.com'),
        'the account service is still contacted (SIM activation), only without them',
      );
      assert.ok(!off.judgements.some((f) => f.subject === 'smsapi.micloud.xiaomi.net'));

      const twin = await read<TwinComparison>('messages-cloud-off', 'twin.json');
      assert.equal(twin.consent, 'cloud messaging');
      assert.ok(twin.onlyOn.hosts.includes('smsapi.micloud.xiaomi.net'), JSON.stringify(twin.onlyOn));
      for (const kind of ['phone-number', 'imsi'])
        assert.ok(
          twin.onlyOn.leaks.some((l) => l.startsWith(kind) && l.includes('api.account.xiaomi.com')),
          `${kind} among the leaks only the consent-on run has: ${JSON.stringify(twin.onlyOn.leaks)}`,
        );

      // Contacts and messages, cloud messaging on: the new contact is looked up with the account
      // service, the phone's own number beside it (read inside TLS), and both SMS sync with Mi Cloud.
      const cOn = await read<Verdict>('contacts-messages-cloud-on', 'verdict.json');
      const cOnResult = await read<RunResult>('contacts-messages-cloud-on', 'result.json');
      assert.equal(cOnResult.outcome, 'passed', cOnResult.reason);
      const lookup = (cOn.identifierLeaks ?? []).find(
        (j) =>
          j.subject === 'api.account.xiaomi.com' &&
          j.leak.kind === 'phone-number' &&
          /body JSON \$\.ownNumber/.test(j.leak.place),
      );
      assert.ok(
        lookup,
        `the contact lookup carries the phone number: ${JSON.stringify(cOn.identifierLeaks)}`,
      );
      assert.equal(lookup.status, 'allowed');
      for (const name of ['add a contact', 'send an SMS to the contact', 'delete the contact']) {
        const step = cOnResult.phases.find((p) => p.name === name);
        assert.equal(step?.provider, 'ui', `${name}: ${JSON.stringify(step)}`);
      }
      assert.match(
        cOnResult.phases.find((p) => p.name === 'an SMS comes in')?.detail ?? '',
        /^lab hook sms\.receive: node exit 0: .*SMS delivered/,
      );
      // Off: the same contact and messages, and neither the number nor the messages leave the phone.
      const cOff = await read<Verdict>('contacts-messages', 'verdict.json');
      const cOffResult = await read<RunResult>('contacts-messages', 'result.json');
      assert.equal(cOffResult.outcome, 'passed', cOffResult.reason);
      assert.deepEqual(
        (cOff.identifierLeaks ?? []).filter((j) => j.leak.kind === 'phone-number' || j.leak.kind === 'imsi'),
        [],
      );
      assert.ok(!cOff.judgements.some((f) => f.subject === 'smsapi.micloud.xiaomi.net'));
      const cTwin = await read<TwinComparison>('contacts-messages-cloud-on', 'twin.json');
      assert.ok(cTwin.onlyOn.hosts.includes('smsapi.micloud.xiaomi.net'), JSON.stringify(cTwin.onlyOn));
      // The Pixel runs contacts-messages with its cloud step left out, and skips the cloud twin.
      assert.match(ran.out, /contacts-messages-cloud-on[^\n]*does not declare cloud-messaging/);
      assert.doesNotMatch(ran.out, /skipped: [^\n]*› contacts-messages: /);
    },
  );
});
