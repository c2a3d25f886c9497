/**
 * `phonehome farm matrix`: the device farm file (devices/farm.yaml) as the nightly workflow's job
 * matrix, one job per lab host, as one line of JSON. Warnings (an adb server off loopback) go to
 * standard error; a bad farm file exits 2 naming its line and field.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { Command } from './commander.js';

export function register(program: Command): void {
  const farm = program
    .command('farm')
    .summary('the device farm: lab hosts, their runners and phones (devices/farm.yaml)');
  farm
    .command('matrix')
    .description(
      "Read the farm file and print the nightly workflow's matrix as one line of JSON: " +
        '{"include":[{host, runsOn, phoneArgs, capture, captureInterface, adbHost, adbPort}, …]}, ' +
        'one job per lab host. Exit status: 0, or 2 for a farm file that cannot be read or is wrong.',
    )
    .option('--file <file>', 'the farm file', 'devices/farm.yaml')
    .action(async (o: { file: string }) => {
      const [{ parseFarmFile, farmMatrix }, { terminalSafe }] = await Promise.all([
        import('../config/farm-file.js'),
        import('../format/terminal-text.js'),
      ]);
      let text: string;
      try {
        text = await readFile(o.file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new UsageError(
          `cannot read the farm file ${o.file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? err)}`,
        );
      }
      const parsed = parseFarmFile(text, o.file);
      for (const w of parsed.warnings) process.stderr.write(`phonehome: warning: ${terminalSafe(w)}\n`);
      process.stdout.write(`${JSON.stringify(farmMatrix(parsed))}\n`);
    });
}
