/**
 * The one error class of the Appium backend. `kind` says what went wrong, `advice` what a person can
 * do about it (set for setup problems and known phone obstacles).
 */

/** What went wrong, in a word a caller can branch on. */
export type AppiumErrorKind =
  /** The Appium package or a needed driver is not installed in the project's APPIUM_HOME. */
  | 'not-installed'
  /** The port Appium was told to use is taken by another process. */
  | 'port-in-use'
  /** The server did not start or did not answer /status before its deadline. */
  | 'start-failed'
  /** The local Appium process exited while it was needed. */
  | 'crashed'
  /** An operation did not finish before its deadline. */
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** Appium refused to create a session (bad capabilities, phone not usable, driver failure). */
  | 'session-failed'
  /** The session is gone (deleted, expired by newCommandTimeout, or its server restarted). */
  | 'session-lost'
  /** No element matched a selector before the deadline. */
  | 'no-such-element'
  /** A UI step ran but did not have the effect it should (a toggle that did not change). */
  | 'ui-failed'
  /** Any other WebDriver command failure. */
  | 'command-failed';

export class AppiumError extends Error {
  override name = 'AppiumError';
  constructor(
    readonly kind: AppiumErrorKind,
    message: string,
    /** What a person should do about it, when there is something to do. */
    readonly advice?: string,
    options?: { cause?: unknown },
  ) {
    super(advice ? `${message}; ${advice}` : message, options);
  }
}
