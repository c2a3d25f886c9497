import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppiumError, ConfigError, UsageError } from '../errors.js';
import * as analyzeCommand from './analyze-command.js';
import { buildProgram, userErrorLine } from './run-cli.js';

test('each subcommand module registers its command; help lists it with its options', () => {
  const program = buildProgram([analyzeCommand]);
  assert.deepEqual(
    program.commands.map((c) => c.name()),
    ['analyze'],
  );
  const help = program.commands[0]!.helpInformation();
  for (const option of ['--allowlist <file>', '--device <addr>', '--format <format>', '--out <file>']) {
    assert.ok(help.includes(option), option);
  }
  assert.match(help, /choices: "table", "json", "csv",\s+default:\s+"table"/);
});

test('user errors become one "phonehome:" line; anything else is a bug and gets none', () => {
  assert.equal(
    userErrorLine(new ConfigError('idle.yaml', 12, 5, 'allow[3].cidr', '"10.0.0.0/33" is not a CIDR')),
    'phonehome: idle.yaml:12:5: allow[3].cidr: "10.0.0.0/33" is not a CIDR',
  );
  assert.equal(
    userErrorLine(new UsageError('x.pcap is not a pcap or pcapng capture (bad magic)')),
    'phonehome: x.pcap is not a pcap or pcapng capture (bad magic)',
  );
  assert.equal(
    userErrorLine(new UsageError('cannot read evil\x1b[2J\n.pcap: no such file or directory')),
    'phonehome: cannot read evil\\x1b[2J\\n.pcap: no such file or directory',
    'a hostile file name stays one safe line',
  );
  assert.equal(
    userErrorLine(
      new AppiumError('port-in-use', 'cannot start Appium on port 4723', 'another process listens there'),
    ),
    'phonehome: cannot start Appium on port 4723; another process listens there',
    'Appium failing to start is the lab setup, not a bug',
  );
  assert.equal(userErrorLine(new TypeError('undefined is not a function')), undefined);
});

test('usage mistakes surface as commander errors with a non-zero code, not as a process exit', async () => {
  const program = buildProgram([analyzeCommand]);
  let written = '';
  // Only where the text goes is replaced: the "phonehome:" shape comes from buildProgram().
  program.commands[0]!.configureOutput({
    writeErr: (s) => {
      written += s;
    },
  });
  await assert.rejects(
    program.parseAsync(['node', 'phonehome', 'analyze']),
    (e: { exitCode: number }) => e.exitCode !== 0,
  );
  assert.equal(written, "phonehome: missing required argument 'capture'\n");
});
