/**
 * The simulator's own errors. The simulated phone is a neighbour of the harness, not a room of it: it
 * shares no code with phonehome's engine, so that a harness test cannot pass on the simulator alone.
 */

/** A simulated device's profile, traffic or screens file is wrong; the message points at file:line:column. */
export class SimConfigError extends Error {
  override name = 'SimConfigError';
  constructor(
    /** The file, as the user named it. */
    readonly file: string,
    /** 1-based line, 0 when unknown. */
    readonly line: number,
    /** 1-based column, 0 when unknown. */
    readonly column: number,
    /** Path of the offending field, e.g. "packages[2].name" ("" for the whole file). */
    readonly path: string,
    /** What was expected, in words. */
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line ? `:${line}:${column}` : ''}: ${path ? `${path}: ` : ''}${expected}`, options);
  }
}

/**
 * A part of the simulated lab (a namespace, tcpdump inside a phone, the adb server it connects to)
 * would not do its job. `part` names it, as a lab engineer would look for it.
 */
export class SimLabError extends Error {
  override name = 'SimLabError';
  constructor(
    /** The part that failed, e.g. "adb -P 5037 connect 127.0.0.1:5601" or "PCAPdroid's tcpdump". */
    readonly part: string,
    /** What went wrong, in words. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${part}: ${reason}`, options);
  }
}

/** Wrong use of the `sim` command; its CLI prints the message and exits 2. */
export class SimUsageError extends Error {
  override name = 'SimUsageError';
}

/** The message of anything thrown: an Error's message, else its text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
