/**
 * `phonehome run`: the chosen phones through the chosen scenarios, results for Allure.
 * Settings come from the command line, then phonehome.config (--config FILE, or
 * ./phonehome.config.{js,mjs,json,ts}), then defaults (harness/lab/settings.ts). On a terminal
 * (outside CI) each phone has one live line redrawn in place; elsewhere progress is plain lines.
 */

import { errorMessage } from '../errors.js';
import type { RunWatcher } from '../lab/run-lab.js';
import type { RunCommandOptions } from '../lab/settings.js';
import type { SuiteEvent, SuiteSummary } from '../run/suite.js';
import type { Command } from './commander.js';
import { EXIT_INTERRUPTED, interruptible } from './interrupt.js';
import { liveDisplay, plainDisplay, summaryText, wantsLiveDisplay } from './run-display.js';

/** The terminal's view of a run: live lines on a terminal outside CI (unless --plain), else plain lines. */
export function terminalWatcher(plain: boolean | undefined): RunWatcher {
  const live =
    !plain && wantsLiveDisplay(process.env, process.stdout.isTTY === true, process.stderr.isTTY === true);
  const display = live ? liveDisplay(process.stderr) : plainDisplay((s) => process.stderr.write(s));
  return {
    live,
    print: (l) => display.print(l),
    event: (e) => display.event(e),
    close: () => display.close(),
  };
}

/** Runs the suite as the options say; returns the summary and the exit code. */
export async function runCommand(
  o: RunCommandOptions,
  signal: AbortSignal,
): Promise<{ summary: SuiteSummary; exit: number; skipped: Extract<SuiteEvent, { type: 'end' }>[] }> {
  // The suite and the lab load only when a run starts, so that every other command starts fast.
  const [{ runScenarios }, { suiteExitCode }] = await Promise.all([
    import('../lab/run-lab.js'),
    import('../run/suite.js'),
  ]);
  const { summary, skipped } = await runScenarios(o, signal, terminalWatcher(o.plain));
  return { summary, exit: signal.aborted ? EXIT_INTERRUPTED : suiteExitCode(summary), skipped };
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'settings file (default: ./phonehome.config.{js,mjs,json,ts} if present)')
    .option('--scenario <name...>', "scenarios to run (default: the config's, else all)")
    .option('--device <serial...>', 'phones by adb serial')
    .option('--profile <name...>', 'every attached phone matching these device profiles')
    .option('--all', 'every attached phone')
    .option('--sim <profile...>', 'simulated phones (PROFILE or PROFILE+misbehaviour+…); needs root')
    .option(
      '--speed <n>',
      'time compression for the simulated phones --sim starts (a simulated phone attached by serial tells its own, in ro.phonehome.sim.speed)',
      '60',
    )
    .option(
      '--retries <n>',
      'run a broken scenario again up to N times (the broken attempt kept as SCENARIO.attempt-N; a lost phone is waited for first)',
      '0',
    )
    .option(
      '--reconnect-wait <seconds>',
      'with --retries: how long a phone that dropped off adb mid-run is waited for (asking adb to reconnect it alone) before its scenario is tried again',
      '60',
    )
    .option(
      '--wait-for-phones <seconds>',
      'wait up to SECONDS for a phone another phonehome process on this host has (default: refuse at once, naming who has it)',
    )
    .option('--grep <re>', 'only tests whose title ("PHONE scenario") matches (mocha --grep)')
    .option('--bail', 'stop after the first failure')
    .option('--parallelism <n>', 'at most N phones at once (default: all)')
    .option('--out <dir>', 'output folder (runs/, allure-results/) (default: reports)')
    .option('--capture <backend>', 'tcpdump, cap or pcapdroid (default: tcpdump)')
    .option('--interface <if>', "the lab access point's interface to capture on")
    .option(
      '--snaplen <bytes>',
      'tcpdump and cap: bytes kept of each packet (default 0, whole packets). 1518 on an access point that ' +
        'passes wire-sized packets (no GRO) keeps four phones lossless at 1 Gbit/s where 0 does not (BENCHMARKS.md)',
    )
    .option('--adb-host <host>', 'adb server host (default: 127.0.0.1)')
    .option('--adb-port <port>', 'adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)')
    .option(
      '--devices-dir <dir>',
      "folder of device profiles (default: the config's, else phonehome's own devices/)",
    )
    .option(
      '--inventory <file>',
      'identifiers phones will not tell, per serial (YAML) (default: $PHONEHOME_INVENTORY, else ~/.config/phonehome/inventory.yaml if there)',
    )
    .option(
      '--history <dir>',
      "baselines for drift: accepted runs per device profile and scenario (default: the config's, else OUT/history)",
    )
    .option('--no-history', 'do not compare runs with their baselines (no drift)')
    .option(
      '--intercept <mode>',
      "see inside TLS: mitmproxy where the lab routes the phone (root; the phone must trust the lab's CA: phonehome intercept install-ca)",
    )
    .option('--no-intercept', 'no TLS interception, whatever the config says')
    .option(
      '--sim-rooted',
      'the simulated phones are rooted (su works), as lab phones rooted with Magisk are',
    )
    .option('--sim-card', 'the simulated phones have their SIM card in (scenarios that need one run)')
    .option(
      '--accept',
      'after the suite, accept its analysed runs (passed or failed) into their baselines: the next run is compared with them',
    )
    .option('--plain', 'plain progress lines even on a terminal')
    .option(
      '--no-ui',
      "no UI automation: UI steps use their adb equivalent, and scenarios with UI-only steps are skipped (default: Appium with UiAutomator2 when installed, or the config's appium)",
    );
}

export function register(program: Command): void {
  addRunOptions(
    program.command('run').description('run scenarios on phones, in parallel, with results for Allure'),
  ).action(async (o: RunCommandOptions) => {
    const { signal, done } = interruptible();
    try {
      const { summary, exit, skipped } = await runCommand(o, signal);
      process.stdout.write(summaryText(summary, skipped));
      process.exitCode = exit;
    } catch (err) {
      // Stopped before the suite could report (while the phones came up, say): still an interruption.
      if (!signal.aborted) throw err;
      process.stderr.write(`phonehome: interrupted (${errorMessage(err)})\n`);
      process.exitCode = EXIT_INTERRUPTED;
    } finally {
      done();
    }
  });
}
