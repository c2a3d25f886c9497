/**
 * The few error classes phonehome throws, each with its data. Failures inside a run (a broken rule,
 * a lost phone during a scenario) become outcome values; these are for bugs, bad input and I/O that
 * cannot go on.
 */

/** A config, device profile or allowlist file is wrong. The message points at file:line:column. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** The file, as the user named it. */
    readonly file: string,
    /** 1-based line, 0 when unknown. */
    readonly line: number,
    /** 1-based column, 0 when unknown. */
    readonly column: number,
    /** Path of the offending field, e.g. "allow[3].cidr" ("" for the whole file). */
    readonly path: string,
    /** What was expected, in words. */
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line ? `:${line}:${column}` : ''}: ${path ? `${path}: ` : ''}${expected}`, options);
  }
}

/** The phone went away (unplugged, rebooted, adb transport dropped) while an operation needed it. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    readonly serial: string,
    message = `device ${serial} was lost`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The adb server stopped answering during a command (killed, crashed, restarted by another tool):
 * every phone's command in flight is cut, and the phones themselves may be fine.
 */
export class AdbServerLostError extends Error {
  override name = 'AdbServerLostError';
  constructor(
    /** HOST:PORT of the server. */
    readonly server: string,
    /** The command that was cut. */
    readonly command: string,
    /** What phonehome did about it (started the server again, or could not). */
    readonly recovery: string,
    options?: { cause?: unknown },
  ) {
    super(`the adb server ${server} went away during: ${command}; ${recovery}`, options);
  }
}

/** An adb command ran but failed. */
export class AdbCommandError extends Error {
  override name = 'AdbCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      `adb command failed (exit ${exitCode ?? 'unknown'}): ${command}${stderr ? `: ${stderr.trim()}` : ''}`,
      options,
    );
  }
}

/** A capture backend could not start, stopped unexpectedly, or produced nothing usable. */
export class CaptureError extends Error {
  override name = 'CaptureError';
  constructor(
    readonly backend: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${backend} capture: ${reason}`, options);
  }
}

/** Wrong command-line usage; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

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

/**
 * The one error class of the Appium backend. `kind` says what went wrong, `advice` what a person can
 * do about it (set for setup problems and known phone obstacles).
 */
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
    this.what = message;
  }

  /** The message without the advice (to wrap in a longer message that adds the advice once). */
  readonly what: string;
}

/** The message of anything thrown: an Error's message, else its text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
