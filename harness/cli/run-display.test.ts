import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioStep } from '../run/scenario.js';
import type { SuiteSummary } from '../run/suite.js';
import {
  applyEvent,
  clock,
  formatEndLine,
  formatProgressLine,
  type PhoneProgress,
  remainingWaitMs,
  summaryText,
  wantsLiveDisplay,
} from './run-display.js';

const STEPS: ScenarioStep[] = [
  { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
  { kind: 'wait', name: 'settle', ms: 5_000 },
  { kind: 'adb', name: 'screen off', command: 'input keyevent 26' },
  { kind: 'wait', name: 'idle', ms: 10_000 },
];

function progress(over: Partial<PhoneProgress> = {}): PhoneProgress {
  return {
    phone: 'Google Pixel 7 (127.0.0.1:5601)',
    scenario: 'idle',
    steps: STEPS,
    step: -1,
    startedAt: 1_000_000,
    stepStartedAt: 1_000_000,
    ...over,
  };
}

describe('live progress line', () => {
  it('counts the waiting left from the scenario’s wait steps', () => {
    assert.equal(remainingWaitMs(progress(), 1_000_000), 15_000);
    assert.equal(remainingWaitMs(progress({ step: 1, stepStartedAt: 1_000_000 }), 1_002_000), 13_000);
    assert.equal(remainingWaitMs(progress({ step: 2 }), 1_900_000), 10_000);
    // A wait that overran leaves nothing of itself, never a negative time.
    assert.equal(remainingWaitMs(progress({ step: 3, stepStartedAt: 0 }), 1_900_000), 0);
  });

  it('formats clocks', () => {
    assert.equal(clock(0), '0:00');
    assert.equal(clock(75_000), '1:15');
    assert.equal(clock(3_723_000), '1:02:03');
  });

  it('shows phone, scenario, step, elapsed and left, connections and violations', () => {
    const line = formatProgressLine(
      progress({
        step: 3,
        stepStartedAt: 1_004_000,
        stats: { connections: 14, names: 6, violations: 1, bytes: 9000 },
      }),
      1_007_000,
      200,
    );
    assert.equal(
      line,
      'Google Pixel 7 (127.0.0.1:5601) · idle · step 4/4 idle · 0:07 elapsed, ~0:07 left · 14 connections · 1 violation',
    );
    assert.equal(
      formatProgressLine(progress(), 1_000_000, 200),
      'Google Pixel 7 (127.0.0.1:5601) · idle · preparing · 0:00 elapsed, ~0:15 left',
    );
  });

  it('fits the terminal width and never lets the phone move the cursor', () => {
    const line = formatProgressLine(progress({ phone: 'Evil\x1b[2J\nPhone (x)' }), 1_000_000, 40);
    assert.ok([...line].length <= 40, line);
    assert.ok(!/[\x00-\x1f]/.test(line), line);
    assert.ok(line.startsWith('Evil\\x1b[2J\\nPhone'), line);
    assert.ok(line.endsWith('…'));
  });

  it('follows the run’s log lines to the step running', () => {
    const phones = new Map<string, PhoneProgress>();
    const serial = 's1';
    applyEvent(phones, { type: 'start', serial, phone: 'P', scenario: 'idle', steps: STEPS }, 100);
    applyEvent(phones, { type: 'progress', serial, scenario: 'idle', line: 'capture: tcpdump started' }, 200);
    assert.equal(phones.get(serial)?.step, -1);
    applyEvent(phones, { type: 'progress', serial, scenario: 'idle', line: 'step settle' }, 300);
    assert.equal(phones.get(serial)?.step, 1);
    assert.equal(phones.get(serial)?.stepStartedAt, 300);
    applyEvent(
      phones,
      {
        type: 'live',
        serial,
        scenario: 'idle',
        stats: { connections: 3, names: 2, violations: 0, bytes: 1 },
      },
      400,
    );
    assert.equal(phones.get(serial)?.stats?.connections, 3);
    applyEvent(
      phones,
      { type: 'progress', serial, scenario: 'idle', line: 'canary end-x.canary.test: ping exit 0' },
      500,
    );
    assert.match(formatProgressLine(phones.get(serial)!, 600, 200), /end canary, then the verdict/);
    applyEvent(
      phones,
      {
        type: 'end',
        serial,
        phone: 'P',
        scenario: 'idle',
        outcome: 'passed',
        reason: '3 flows, all allowed',
      },
      700,
    );
    assert.equal(phones.size, 0);
  });

  it('keeps one line per finished scenario with its outcome', () => {
    assert.equal(
      formatEndLine({
        type: 'end',
        serial: 's',
        phone: 'Google Pixel 7 (s)',
        scenario: 'theme-store',
        outcome: 'skipped',
        reason: 'the pixel-stock profile does not declare themes-app among its capabilities',
      }),
      '- Google Pixel 7 (s) › theme-store: skipped: the pixel-stock profile does not declare themes-app among its capabilities',
    );
  });

  it('is live only on a terminal outside CI', () => {
    assert.equal(wantsLiveDisplay({}, true, true), true);
    assert.equal(wantsLiveDisplay({ CI: 'true' }, true, true), false);
    assert.equal(wantsLiveDisplay({ CI: 'false' }, true, true), true);
    assert.equal(wantsLiveDisplay({}, false, true), false);
    assert.equal(wantsLiveDisplay({}, true, false), false);
  });
});

describe('run summary', () => {
  it('names violations and skip reasons, terminal-safe', () => {
    const summary = {
      passed: 0,
      failed: 1,
      broken: 0,
      skipped: 1,
      resultsDir: '/r/allure-results',
      results: [
        {
          serial: 's1',
          scenario: 'idle',
          outcome: 'failed',
          reason: '2 violations',
          violations: [
            {
              subject: 'beacon.unlisted\x1b[31m.net (asked of the resolver)',
              step: 'idle',
              ruleText: 'no rule matched',
            },
            { subject: 'beacon.unlisted\x1b[31m.net', step: 'idle', ruleText: 'no rule matched' },
          ],
        },
      ],
    } as unknown as SuiteSummary;
    const text = summaryText(summary, [
      {
        type: 'end',
        serial: 's1',
        phone: 'P (s1)',
        scenario: 'theme-store',
        outcome: 'skipped',
        reason: 'no allowlist',
      },
    ]);
    assert.match(text, /^0 passed, 1 failed, 0 broken, 1 skipped$/m);
    assert.match(text, /^failed: s1 › idle: 2 violations$/m);
    // Every violation has its line: as many lines as the reason counts.
    assert.match(
      text,
      /^ {2}beacon\.unlisted\\x1b\[31m\.net \(asked of the resolver\) during idle: no rule matched$/m,
    );
    assert.match(text, /^ {2}beacon\.unlisted\\x1b\[31m\.net during idle: no rule matched$/m);
    assert.equal(text.match(/^ {2}beacon/gm)?.length, 2);
    assert.match(text, /^skipped: P \(s1\) › theme-store: no allowlist$/m);
    assert.match(text, /^results: \/r\/allure-results$/m);
  });
});
