import type { OpOptions } from '../deadline.js';

/**
 * What the run pipeline needs from a phone's UI: the few operations scenarios use, each with a wait
 * and a deadline. The Appium backend (harness/appium/appium-ui.ts) implements it; the pipeline never
 * knows which automation drives the phone.
 */

/** A UI element as a device profile's `ui:` map names it. At least one field is set; all must match. */
export interface UiSelector {
  /** Exact visible text. */
  text?: string;
  /** Part of the visible text. */
  textContains?: string;
  /** Exact resource-id, e.g. com.miui.cloudbackup:id/backup_switch. */
  id?: string;
  /** Exact content description (accessibility label). */
  description?: string;
  /** Exact class, e.g. android.widget.Switch. */
  className?: string;
}

/** What a step did, for the run's step record and the report. */
export interface UiStepResult {
  /** One line for the step record, e.g. 'tapped text "Cloud backup"', 'toggle already on'. */
  detail: string;
  /** PNG of the screen after the step, for the report; absent when it could not be taken. */
  screenshot?: Uint8Array;
}

/**
 * A phone's UI. Steps wait for their element until the deadline; failures reject (the pipeline turns
 * them into a broken outcome with the error's message). Each takes a deadline (the backend's default
 * when absent) and a signal.
 */
export interface Ui {
  /** Waits for an element matching the selector and taps it. */
  tap(selector: UiSelector, opts?: OpOptions): Promise<UiStepResult>;
  /** tap({ text }). */
  tapByText(text: string, opts?: OpOptions): Promise<UiStepResult>;
  /** tap({ id }) by resource-id. */
  tapById(resourceId: string, opts?: OpOptions): Promise<UiStepResult>;
  /** tap({ description }) by content description. */
  tapByDescription(description: string, opts?: OpOptions): Promise<UiStepResult>;
  /** Scrolls the screen's scrollable view until an element with this exact text is visible. */
  scrollTo(text: string, opts?: OpOptions): Promise<UiStepResult>;
  /** Makes a checkable element (switch, checkbox) checked or not, tapping it only if needed. */
  setToggle(selector: UiSelector, on: boolean, opts?: OpOptions): Promise<UiStepResult>;
  /**
   * Replaces the text of an editable element (a form field) with `text`. The text is a secret (an
   * account, a password): the result's detail names the field only, and the backend keeps the text
   * out of its own logs.
   */
  typeText(
    selector: UiSelector,
    text: string,
    opts?: OpOptions & { secret?: boolean },
  ): Promise<UiStepResult>;
  /** Presses Back. */
  back(opts?: OpOptions): Promise<UiStepResult>;
  /** Presses Home. */
  home(opts?: OpOptions): Promise<UiStepResult>;
  /** The screen's UI hierarchy as XML. */
  pageSource(opts?: OpOptions): Promise<string>;
  /** A PNG of the screen. */
  screenshot(opts?: OpOptions): Promise<Uint8Array>;
  /**
   * The phone restarted (a factory reset, a reboot) and took the UI automation on it along: the next
   * step starts afresh (a new session) instead of failing on the old one. A backend without state
   * leaves it out.
   */
  renew?(opts?: OpOptions): Promise<void>;
}
