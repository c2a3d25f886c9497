/**
 * The run pipeline's Ui over a WebdriverIO session: waits for elements by polling find-elements (never
 * an implicit wait that outlives the deadline), taps, toggles, scrolls, and a screenshot after each step.
 * Works with any WebdriverIO Browser; UiAutomator2 gets `-android uiautomator` locators, other drivers
 * XPath ones.
 */

import { msLeft, type OpOptions } from '../deadline.js';
import { AppiumError, errorMessage } from '../errors.js';
import type { Ui, UiSelector, UiStepResult } from '../run/ui.js';
import { appiumDeadline, delay } from './deadline.js';
import type { AppiumSession, Browser, CallRunner, PhoneSessionSpec, PhoneSessions } from './session.js';
import { commandError } from './session.js';
import {
  describeSelector,
  type Locator,
  locatorFor,
  scrollIntoViewExpression,
  xpathExpression,
} from './ui-selector.js';

/** Settings of the UI helpers. */
export interface AppiumUiOptions {
  /** Locator dialect: 'uiautomator' for UiAutomator2 (default), 'xpath' for drivers without UiSelector. */
  dialect?: 'uiautomator' | 'xpath';
  /** Default deadline of an operation, ms (default 20 000). */
  deadlineMs?: number;
  /** Pause between looks for an element, ms (default 250). */
  pollMs?: number;
  /** Take a screenshot after each step (default true). */
  screenshots?: boolean;
  /** Told each text before it is typed, so that the Appium server's log can mask it. */
  onSecret?: (text: string) => void;
}

const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';
const KEYCODE_HOME = 3;

function elementId(ref: unknown): string | undefined {
  const r = ref as Record<string, unknown> | undefined;
  const id = r?.[ELEMENT_KEY] ?? r?.ELEMENT;
  return typeof id === 'string' ? id : undefined;
}

/** The Ui of one phone's session. */
export class AppiumUi implements Ui {
  readonly #run: CallRunner;
  readonly #dialect: 'uiautomator' | 'xpath';
  readonly #deadlineMs: number;
  readonly #pollMs: number;
  readonly #screenshots: boolean;
  readonly #onSecret: ((text: string) => void) | undefined;

  readonly #renew: ((op: OpOptions) => Promise<void>) | undefined;

  constructor(run: CallRunner, opts: AppiumUiOptions = {}, renew?: (op: OpOptions) => Promise<void>) {
    this.#onSecret = opts.onSecret;
    this.#run = run;
    this.#renew = renew;
    this.#dialect = opts.dialect ?? 'uiautomator';
    this.#deadlineMs = opts.deadlineMs ?? 20_000;
    this.#pollMs = opts.pollMs ?? 250;
    this.#screenshots = opts.screenshots ?? true;
  }

  /** Ui over an AppiumSession (crash detection, session-lost errors). */
  static forSession(session: AppiumSession, opts: AppiumUiOptions = {}): AppiumUi {
    return new AppiumUi((what, op, fn) => session.run(what, op, fn), opts);
  }

  /**
   * Ui of a phone through the pool: each step uses the phone's current session, made anew when Appium
   * ended the old one (the Ui to hand to the run pipeline).
   */
  static forPhone(pool: PhoneSessions, phone: PhoneSessionSpec, opts: AppiumUiOptions = {}): AppiumUi {
    // After the phone restarted, its session ends (whatever Appium can still say of it): the next
    // step makes a new one, which puts the UiAutomator2 server back on the phone.
    return new AppiumUi(pool.runner(phone), opts, (op) =>
      pool.close(phone.serial, op).catch(() => undefined),
    );
  }

  /** Ends the phone's session after it restarted, so that the next step starts a new one. */
  async renew(opts: OpOptions = {}): Promise<void> {
    await this.#renew?.({
      deadlineMs: opts.deadlineMs ?? 20_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** Ui over any WebdriverIO Browser, with deadlines but no knowledge of the server process. */
  static forBrowser(browser: Browser, opts: AppiumUiOptions = {}): AppiumUi {
    return new AppiumUi(async (what, op, fn) => {
      try {
        return await appiumDeadline(what, op, () => fn(browser));
      } catch (err) {
        throw commandError(err, what);
      }
    }, opts);
  }

  tapByText(text: string, opts?: OpOptions): Promise<UiStepResult> {
    return this.tap({ text }, opts);
  }
  tapById(resourceId: string, opts?: OpOptions): Promise<UiStepResult> {
    return this.tap({ id: resourceId }, opts);
  }
  tapByDescription(description: string, opts?: OpOptions): Promise<UiStepResult> {
    return this.tap({ description }, opts);
  }

  async tap(selector: UiSelector, opts: OpOptions = {}): Promise<UiStepResult> {
    const until = this.#until(opts);
    const what = describeSelector(selector);
    const id = await this.#waitFor(locatorFor(selector, this.#dialect), what, until, opts.signal);
    await this.#call(`tap ${what}`, until, opts.signal, (b) => b.elementClick(id));
    return this.#stepDone(`tapped ${what}`, until, opts.signal);
  }

  async scrollTo(text: string, opts: OpOptions = {}): Promise<UiStepResult> {
    const until = this.#until(opts);
    const what = describeSelector({ text });
    // UiScrollable scrolls as part of the search: each look scrolls the list through once.
    const locator: Locator =
      this.#dialect === 'uiautomator'
        ? { using: '-android uiautomator', value: scrollIntoViewExpression({ text }) }
        : locatorFor({ text }, 'xpath');
    await this.#waitFor(locator, what, until, opts.signal);
    return this.#stepDone(`scrolled to ${what}`, until, opts.signal);
  }

  async setToggle(selector: UiSelector, on: boolean, opts: OpOptions = {}): Promise<UiStepResult> {
    const until = this.#until(opts);
    const what = describeSelector(selector);
    const want = on ? 'on' : 'off';
    const found = await this.#waitFor(locatorFor(selector, this.#dialect), what, until, opts.signal);
    const id = await this.#switchOf(found, selector, what, until, opts.signal);
    const before = await this.#checked(id, what, until, opts.signal);
    if (before === on) return this.#stepDone(`${what} already ${want}`, until, opts.signal);
    await this.#call(`tap ${what}`, until, opts.signal, (b) => b.elementClick(id));
    // The switch may animate or wait for its app: look until it shows the new state.
    for (;;) {
      if ((await this.#checked(id, what, until, opts.signal)) === on) break;
      if (msLeft(until) <= this.#pollMs)
        throw new AppiumError('ui-failed', `${what} was tapped but did not turn ${want}`);
      await delay(this.#pollMs, opts.signal);
    }
    return this.#stepDone(`turned ${what} ${want}`, until, opts.signal);
  }

  async typeText(
    selector: UiSelector,
    text: string,
    opts: OpOptions & { secret?: boolean } = {},
  ): Promise<UiStepResult> {
    const until = this.#until(opts);
    const what = describeSelector(selector);
    const id = await this.#waitFor(locatorFor(selector, this.#dialect), what, until, opts.signal);
    if (opts.secret !== false) this.#onSecret?.(text);
    await this.#call(`clear ${what}`, until, opts.signal, (b) => b.elementClear(id));
    await this.#call(`type into ${what}`, until, opts.signal, (b) => b.elementSendKeys(id, text));
    return this.#stepDone(`typed into ${what}`, until, opts.signal);
  }

  async back(opts: OpOptions = {}): Promise<UiStepResult> {
    const until = this.#until(opts);
    await this.#call('press Back', until, opts.signal, (b) => b.back());
    return this.#stepDone('pressed Back', until, opts.signal);
  }

  async home(opts: OpOptions = {}): Promise<UiStepResult> {
    const until = this.#until(opts);
    await this.#call('press Home', until, opts.signal, (b) =>
      b.execute('mobile: pressKey', { keycode: KEYCODE_HOME }),
    );
    return this.#stepDone('pressed Home', until, opts.signal);
  }

  pageSource(opts: OpOptions = {}): Promise<string> {
    return this.#call('page source', this.#until(opts), opts.signal, (b) => b.getPageSource());
  }

  async screenshot(opts: OpOptions = {}): Promise<Uint8Array> {
    const b64 = await this.#call('screenshot', this.#until(opts), opts.signal, (b) => b.takeScreenshot());
    return Buffer.from(b64, 'base64');
  }

  #until(opts: OpOptions): number {
    return Date.now() + (opts.deadlineMs ?? this.#deadlineMs);
  }

  #call<T>(
    what: string,
    until: number,
    signal: AbortSignal | undefined,
    fn: (b: Browser) => Promise<T>,
  ): Promise<T> {
    return this.#run(what, { deadlineMs: msLeft(until), ...(signal ? { signal } : {}) }, fn);
  }

  /** Looks for the element until the deadline; resolves with its id. */
  async #waitFor(locator: Locator, what: string, until: number, signal?: AbortSignal): Promise<string> {
    const started = Date.now();
    for (;;) {
      let refs: unknown[];
      try {
        refs = await this.#call(`find ${what}`, until, signal, (b) =>
          b.findElements(locator.using, locator.value),
        );
      } catch (err) {
        // The deadline fell during a look: the element did not appear in time.
        if (err instanceof AppiumError && err.kind === 'timeout')
          throw new AppiumError(
            'no-such-element',
            `no element with ${what} appeared within ${Date.now() - started} ms (the last look was still running)`,
            undefined,
            { cause: err },
          );
        throw err;
      }
      const id = elementId(refs[0]);
      if (id) return id;
      if (msLeft(until) <= this.#pollMs)
        throw new AppiumError(
          'no-such-element',
          `no element with ${what} appeared within ${Date.now() - started} ms`,
        );
      await delay(this.#pollMs, signal);
    }
  }

  /**
   * The element to toggle: the element itself when checkable, else (a profile usually names the
   * label a person reads) the checkable element in the label's row, i.e. under its nearest ancestor
   * that holds one.
   */
  async #switchOf(
    id: string,
    selector: UiSelector,
    what: string,
    until: number,
    signal?: AbortSignal,
  ): Promise<string> {
    const checkable = await this.#call(`read ${what}`, until, signal, (b) =>
      b.getElementAttribute(id, 'checkable'),
    );
    if (checkable === 'true') return id;
    const rowSwitch = `(${xpathExpression(selector)})[1]/ancestor::*[.//*[@checkable="true"]][1]//*[@checkable="true"]`;
    const refs = await this.#call(`find the switch of ${what}`, until, signal, (b) =>
      b.findElements('xpath', rowSwitch),
    );
    const sw = elementId(refs[0]);
    if (!sw) throw new AppiumError('ui-failed', `${what} has no checked state and no switch in its row`);
    return sw;
  }

  async #checked(id: string, what: string, until: number, signal?: AbortSignal): Promise<boolean> {
    const v = await this.#call(`read ${what}`, until, signal, (b) => b.getElementAttribute(id, 'checked'));
    if (v === 'true' || v === 'false') return v === 'true';
    throw new AppiumError(
      'ui-failed',
      `${what} has no checked state (attribute "checked" is ${JSON.stringify(v)})`,
    );
  }

  /** The step's result, with a screenshot when one can be had in the time left (at least 5 s). */
  async #stepDone(detail: string, until: number, signal?: AbortSignal): Promise<UiStepResult> {
    if (!this.#screenshots) return { detail };
    try {
      const shot = await this.screenshot({
        deadlineMs: Math.max(msLeft(until), 5_000),
        ...(signal ? { signal } : {}),
      });
      return { detail, screenshot: shot };
    } catch (err) {
      if (err instanceof AppiumError && (err.kind === 'crashed' || err.kind === 'aborted')) throw err;
      return { detail: `${detail} (no screenshot: ${errorMessage(err)})` };
    }
  }
}
