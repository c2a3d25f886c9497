/**
 * `phonehome demo`: simulated Xiaomi (misbehaving) and Pixel phones through the studies' headline scenarios (DEMO_SCENARIOS),
 * then the Allure report, whose path it prints last.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { Command } from './commander.js';
import { EXIT_INTERRUPTED, interruptible } from './interrupt.js';
import { runCommand } from './run-command.js';
import { summaryText } from './run-display.js';

/**
 * What the demo shows: the moments the studies' headline findings came from (idle, cloud backup on
 * and its opt-out twin, the theme store, analytics opt-out, and the 2014 cloud messaging pair). The
 * rest of the library (location, screen cycles, the night) is one `phonehome run --sim … --scenario`
 * away; leaving it out keeps the demo to about three minutes.
 */
export const DEMO_SCENARIOS = [
  'idle',
  'backup-enabled',
  'backup-disabled',
  'theme-store',
  'analytics-opt-out',
  'messages-cloud-on',
  'messages-cloud-off',
] as const;

/** Adds `demo` to the program. */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      "simulated Xiaomi (misbehaving) and Pixel phones through the studies' headline scenarios, then the Allure report",
    )
    .option('--out <dir>', 'output folder', 'reports/demo')
    .option('--speed <n>', 'time compression', '60')
    .option('--adb-port <port>', 'adb server port for the simulated phones', '5137')
    .action(async (d: { out: string; speed: string; adbPort: string }) => {
      if (process.getuid?.() !== 0) {
        throw new UsageError(
          'the demo needs root: simulated phones live in their own network namespaces (run it with sudo)',
        );
      }
      const { signal, done } = interruptible();
      try {
        await rm(join(d.out, 'allure-results'), { recursive: true, force: true });
        const { summary, skipped } = await runCommand(
          {
            sim: ['xiaomi-redmi-note-13+unknown-host+leak-ids', 'pixel-7'],
            // With their SIM in, so that the scenarios that need one (the 2014 pair) run too.
            simCard: true,
            scenario: [...DEMO_SCENARIOS],
            speed: d.speed,
            retries: '0',
            out: d.out,
            adbHost: '127.0.0.1',
            adbPort: d.adbPort,
            devicesDir: 'devices',
            // The demo is the same everywhere, whatever the lab's config says.
            noConfig: true,
            // Each demo is compared with the one before (OUT/history), then becomes the baseline.
            accept: true,
          },
          signal,
        );
        const { generateReport } = await import('../report/allure-generate.js');
        const report = await generateReport({
          resultsDir: summary.resultsDir,
          outDir: join(d.out, 'allure-report'),
        });
        const { killAdbServer } = await import('../device/adb-server.js');
        await killAdbServer({
          host: '127.0.0.1',
          port: Number(d.adbPort),
          bin: process.env.PHONEHOME_ADB ?? 'adb',
        });
        process.stdout.write(summaryText(summary, skipped));
        process.stdout.write(`Allure report: ${report.indexHtml}\n`);
        if (signal.aborted) process.exitCode = EXIT_INTERRUPTED;
      } finally {
        done();
      }
    });
}
