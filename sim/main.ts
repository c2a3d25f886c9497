#!/usr/bin/env node
/**
 * The simulator's own command: `node dist/sim/main.js sim up|status|down …`. `phonehome sim` hands its
 * arguments to it in a child process, so the harness never loads the simulator's code: it meets a
 * simulated phone only the way it meets a real one (adb, UiAutomator2's HTTP API, packets on a wire).
 * Exit status: 0 done, 1 the lab is not healthy or could not start, 2 bad input or usage, 3 a bug.
 */
import { Command, CommanderError } from 'commander';
import * as simCommand from './cli/sim-command.js';
import { SimConfigError, SimLabError, SimUsageError } from './errors.js';

/** Control characters in a message (a file name, a YAML value) are shown escaped: one terminal line. */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('phonehome')
    .configureOutput({ outputError: (text, write) => write(`phonehome: ${text.replace(/^error: /, '')}`) })
    .exitOverride();
  simCommand.register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof SimUsageError || e instanceof SimConfigError || e instanceof SimLabError) {
      process.stderr.write(`phonehome: ${oneLine(e.message)}\n`);
      return 2;
    }
    process.stderr.write(
      `phonehome sim: internal error (a bug; please report it):\n${(e as Error)?.stack ?? e}\n`,
    );
    return 3;
  }
}

process.exitCode = await main(process.argv);
