/**
 * `phonehome sim up|status|down`: simulated phones in a lab network on this machine (needs root). The
 * simulator is a neighbour of the harness, with its own command (sim/main.ts); this one hands it the
 * arguments in a child process and passes on its output and exit status.
 */
import { runSimCommand } from '../lab/sim-entry.js';
import type { Command } from './commander.js';

/** Adds `sim …` to the program. */
export function register(program: Command): void {
  program
    .command('sim')
    .description('simulated phones in a lab network on this machine (needs root): sim up|status|down')
    .argument('[args...]', 'up, status or down and their options (phonehome sim --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      process.exitCode = await runSimCommand(args.length ? args : ['--help']);
    });
}
