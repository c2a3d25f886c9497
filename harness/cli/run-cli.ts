/**
 * Running the phonehome command line: builds the commander program from the subcommands main.ts
 * lists, runs it, and turns user errors into one line on stderr and an exit code.
 * Exit codes: 0 success (allowed), 1 violations, 2 bad input or usage, 3 internal error (a bug).
 */

import {
  AdbCommandError,
  AppiumError,
  CaptureError,
  ConfigError,
  DeviceLostError,
  UsageError,
} from '../errors.js';
import { terminalSafe } from '../format/terminal-text.js';
import { Command, CommanderError } from './commander.js';

/** A subcommand module: adds its command to the program. */
export interface SubcommandModule {
  register(program: Command): void;
}

export const EXIT_OK = 0;
export const EXIT_VIOLATIONS = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

/** The program with every subcommand registered, exiting through exceptions instead of process.exit. */
export function buildProgram(commands: readonly SubcommandModule[]): Command {
  const program = new Command('phonehome')
    .description('What does this phone send home, and is that allowed?')
    // One line per error, in the same shape as phonehome's own: "phonehome: …".
    .configureOutput({ outputError: (text, write) => write(`phonehome: ${text.replace(/^error: /, '')}`) })
    .exitOverride();
  for (const c of commands) c.register(program);
  return program;
}

/** The one line printed for an error the user can fix, or undefined for a bug. */
export function userErrorLine(e: unknown): string | undefined {
  // File names and YAML values in messages may hold anything: keep the line one terminal-safe line.
  if (e instanceof ConfigError || e instanceof UsageError) return `phonehome: ${terminalSafe(e.message)}`;
  // The lab's tools (adb, Appium, the capture) and phones failing is not a bug in phonehome: say
  // what failed, and what to do about it when the error knows, in one line.
  if (
    e instanceof AdbCommandError ||
    e instanceof AppiumError ||
    e instanceof CaptureError ||
    e instanceof DeviceLostError
  ) {
    return `phonehome: ${terminalSafe(e.message)}`;
  }
  return undefined;
}

/** Runs the command line; resolves to the exit code (the action may also set process.exitCode). */
export async function runCli(
  argv: readonly string[],
  commands: readonly SubcommandModule[],
): Promise<number> {
  // `phonehome analyze x.pcap | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
    throw e;
  });
  const program = buildProgram(commands);
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its message already.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const line = userErrorLine(e);
    if (line !== undefined) {
      process.stderr.write(`${line}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(
      `phonehome: internal error (a bug; please report it):\n${(e as Error)?.stack ?? String(e)}\n`,
    );
    return EXIT_INTERNAL;
  }
}
