/**
 * `phonehome farm matrix`: the device farm file (devices/farm.yaml) as the nightly workflow's job
 * matrix, one job per lab host, as one line of JSON. Warnings (an adb server off loopback) go to
 * standard error; a bad farm file exits 2 naming its line and field.
 * `phonehome farm host-record`: the host.json a host's job leaves beside its results, which
 * `phonehome report --merge` reads to tell a host whose run ended from one that broke.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { Command } from './commander.js';

/** Reads and checks a farm file; warnings go to standard error. */
export async function readFarmFile(file: string): Promise<import('../config/farm-file.js').Farm> {
  const [{ parseFarmFile }, { terminalSafe }] = await Promise.all([
    import('../config/farm-file.js'),
    import('../format/terminal-text.js'),
  ]);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the farm file ${file}: ${code === 'ENOENT' ? 'no such file' : String(code ?? err)}`,
    );
  }
  const parsed = parseFarmFile(text, file);
  for (const w of parsed.warnings) process.stderr.write(`phonehome: warning: ${terminalSafe(w)}\n`);
  return parsed;
}

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
      const { farmMatrix } = await import('../config/farm-file.js');
      process.stdout.write(`${JSON.stringify(farmMatrix(await readFarmFile(o.file)))}\n`);
    });
  farm
    .command('host-record')
    .description(
      "Write the host.json a lab host's nightly job leaves beside its results: the host's name and how " +
        'its `phonehome run` ended (exit status, or "signal" when it was killed). `phonehome report --merge` ' +
        'reads it: a run that ended 0, 1 or 3 is a host that did its night; anything else shows the host ' +
        'broken in the merged report. Exit status: 0, or 2 for bad usage.',
    )
    .requiredOption('--host <name>', "the host's name in the farm file")
    .requiredOption('--exit-status <n>', "the run's exit status, 0 to 255, or signal")
    .requiredOption('--out <file>', 'where to write it (atomically), e.g. reports/host.json')
    .action(async (o: { host: string; exitStatus: string; out: string }) => {
      const [{ FARM_HOST_NAME, hostRecordText }, { writeFileAtomic }] = await Promise.all([
        import('../report/farm-merge.js'),
        import('../atomic-write.js'),
      ]);
      if (!FARM_HOST_NAME.test(o.host))
        throw new UsageError(
          `--host: not a farm host name (lower-case letters, digits and hyphens, at most 39): ${JSON.stringify(o.host)}`,
        );
      let exit: number | null;
      if (o.exitStatus === 'signal') exit = null;
      else if (/^\d{1,3}$/.test(o.exitStatus) && Number(o.exitStatus) <= 255) exit = Number(o.exitStatus);
      else throw new UsageError(`--exit-status: 0 to 255 or signal, not ${JSON.stringify(o.exitStatus)}`);
      await writeFileAtomic(o.out, hostRecordText(o.host, exit));
    });
}
