/**
 * `phonehome sim up|status|down`: simulated phones in a lab network on this machine (needs root).
 * `up` starts a detached supervisor (sim/sim-daemon.ts) and waits until every phone is on the
 * adb server; `down` removes everything the state file records, also after the supervisor was killed.
 */

import type { Command } from 'commander';
import { SimUsageError } from '../errors.js';
import { defaultSimDir } from '../sim-state.js';

const DEFAULT_PROFILE = 'xiaomi-redmi-note-13';

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new SimUsageError(`${name} must be a positive number, not "${v}"`);
    return n;
  };
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new SimUsageError(`--adb-port must be a TCP port, not "${v}"`);
  return n;
}

/** Adds `sim up|status|down` to the program. */
export function register(program: Command): void {
  const sim = program
    .command('sim')
    .description('simulated phones in a lab network on this machine (needs root)');
  const stateDirHelp = 'where the lab state is kept ($PHONEHOME_SIM_DIR or /run/phonehome-sim)';
  sim
    .command('up')
    .description('start simulated phones, each in its own network namespace, and connect them to adb')
    .option('--profile <name...>', 'simulated device(s) from devices/sim, one phone each', [DEFAULT_PROFILE])
    .option('--speed <n>', 'compress time: traffic periods are divided by n', positive('--speed'), 1)
    .option('--adb-port <port>', 'adb server port', port, 5037)
    .option(
      '--misbehave <list>',
      'comma-separated misbehaviours to switch on, as the traffic profile names them (e.g. leak-ids, unknown-host; a wrong name lists them)',
    )
    .option('--unauthorized', 'phones demand adb authorization and stay unauthorized')
    .option('--rooted', 'phones are rooted (su works), as lab phones rooted with Magisk are')
    .option('--sim-card', "phones have their SIM card in (the profile's operator, IMSI, ICCID and number)")
    .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
    .option('--devices <dir>', 'folder of simulated device files (default: the project devices/sim)')
    .option('--timeout <s>', 'seconds to wait for the phones', positive('--timeout'), 120)
    .option('--json', 'print the lab state as JSON')
    .action(async (o) => (await import('./sim-actions.js')).up(o));
  sim
    .command('status')
    .description('show the simulated lab and whether its parts are alive (exit 1 when not healthy)')
    .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
    .option('--json', 'print as JSON')
    .action(async (o) => (await import('./sim-actions.js')).status(o));
  for (const [op, what] of [
    ['unplug', "pull one phone's cable: it leaves adb until plugged in again; the others go on"],
    ['plug', 'plug an unplugged phone in again'],
  ] as const) {
    sim
      .command(`${op} <serial>`)
      .description(what)
      .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
      .action(async (serial: string, o) => (await import('./sim-actions.js')).control(op, serial, o));
  }
  const card = sim
    .command('card')
    .description("a phone's SIM card: take it out or put it in, as a lab's SIM switch does");
  for (const [op, what] of [
    ['insert', 'put the SIM card in: the phone reads it and its SIM traffic begins'],
    ['remove', 'take the SIM card out'],
  ] as const) {
    card
      .command(`${op} <serial>`)
      .description(what)
      .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
      .action(async (serial: string, o) =>
        (await import('./sim-actions.js')).control(op === 'insert' ? 'sim-insert' : 'sim-remove', serial, o),
      );
  }
  sim
    .command('sms <serial>')
    .description("send the phone an SMS, as a lab's SMS sender (a modem, an SMS gateway) does")
    .option('--from <number>', "the sender's number", '+44 7700 900456')
    .option('--text <text>', `the message (at most 160 characters)`, 'phonehome lab: test message')
    .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
    .action(async (serial: string, o) => (await import('./sim-actions.js')).sms(serial, o));
  sim
    .command('reset <serial>')
    .description(
      "factory-reset a phone: it reboots into its setup wizard with a new Android ID, no accounts, contacts or messages, the wizard's optional settings on; answers once it is back",
    )
    .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
    .action(async (serial: string, o) =>
      (await import('./sim-actions.js')).control('factory-reset', serial, o),
    );
  sim
    .command('down')
    .description('remove every namespace, link and process of the simulated lab')
    .option('--state-dir <dir>', stateDirHelp, defaultSimDir())
    .action(async (o) => (await import('./sim-actions.js')).down(o));
}
