/**
 * `phonehome analyze CAPTURE`: read a pcap/pcapng capture, name the endpoints it contacts, and with
 * --allowlist judge them. Heavy modules (the analysis pipeline, yaml, zod) load inside the action so
 * that `phonehome --help` stays fast.
 */

import { DEFAULT_CANARY_DOMAIN } from '../config/canary.js';
import { UsageError } from '../errors.js';
import { type Command, Option } from './commander.js';

/** The options commander hands the action. */
interface AnalyzeCliOptions {
  allowlist?: string;
  device?: string[];
  format: 'table' | 'json' | 'csv';
  out?: string;
  captureComplete?: boolean;
  identifiers?: string;
  geo: boolean;
  geoOverrides?: string[];
  profile?: string;
  exchanges?: string;
  ignoreHosts?: string[];
  canaryDomain: string;
}

export function register(program: Command): void {
  program
    .command('analyze')
    .summary('name the endpoints a capture contacts and judge them against an allowlist')
    .description(
      'Read a pcap or pcapng capture, group its packets into flows, name each responder (TLS/QUIC SNI, ' +
        'HTTP Host, DNS) and, with --allowlist, judge every flow.\n' +
        'Exit status: 0 allowed (or no allowlist), 1 violations or unmet expectations, 2 bad input or usage ' +
        '(a capture with no packet, or none that decodes into a connection, included: it proves nothing).',
    )
    .argument('<capture>', 'pcap or pcapng file; - reads standard input')
    .option('--allowlist <file>', 'YAML allowlist to judge the flows against')
    .option(
      '--device <addr>',
      "the phone's own address; repeat it or separate with commas for several (default: inferred)",
      collectAddrs,
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .option(
      '--identifiers <file>',
      "YAML of the phone's identifiers (kind: value or [values]: imei, serial, android-id, wifi-mac, …): " +
        'search every flow for them in any common encoding; shown masked',
    )
    .option('--no-geo', 'do not look up countries and networks in the offline location databases')
    .option(
      '--geo-overrides <file>',
      "YAML of the lab's own answers (overrides: [{cidr, country, org, note}]) for addresses no database knows; repeatable",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--profile <name>',
      "the phone's device profile (xiaomi-miui-global, pixel-stock …): its maker's domains and networks are first party",
    )
    .option(
      '--exchanges <file>',
      "what mitmproxy saw beside the capture (a run's exchanges.jsonl): requests read inside TLS joined to their flows and searched for identifiers",
    )
    .option(
      '--ignore-hosts <regex>',
      'with --exchanges: hosts the run let through without interception (its intercept.ignoreHosts); repeatable',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--canary-domain <domain>',
      "the run's canary domain: names under it are phonehome's own proof that the capture worked, " +
        'left out of the verdict as a run leaves them out',
      DEFAULT_CANARY_DOMAIN,
    )
    .option('--out <file>', 'write the output to FILE (atomically) instead of standard output (- for it)')
    .option(
      '--capture-complete',
      'the capture lost no packets (as a run whose capture counted 0 drops): judge unnamed connections ' +
        "whose start is not in it (midstream) as open before it began, by the allowlist's openBeforeCapture",
    )
    .action(async (capture: string, opts: AnalyzeCliOptions) => {
      process.exitCode = await analyzeAction(capture, opts);
    });
}

/**
 * --device is repeatable ("--device A --device B") and takes comma lists, rather than being variadic,
 * so that "--device A capture.pcap" cannot swallow the capture's name.
 */
function collectAddrs(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((a) => a.trim())];
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error | undefined)?.message ?? String(e);
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * Checks the capture can be read: standard input that is not a terminal, or a readable file that is
 * not a folder. A capture that cannot be read is a UsageError.
 */
async function checkCapture(capture: string): Promise<void> {
  if (capture === '-') {
    if (process.stdin.isTTY)
      throw new UsageError('the capture is "-" (standard input), but standard input is a terminal');
    return;
  }
  const { open } = await import('node:fs/promises');
  try {
    const fh = await open(capture, 'r');
    const dir = (await fh.stat()).isDirectory();
    await fh.close();
    if (dir) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'read' });
  } catch (e) {
    throw new UsageError(`cannot read ${capture}: ${errnoText(e)}`, { cause: e });
  }
}

async function analyzeAction(capture: string, opts: AnalyzeCliOptions): Promise<number> {
  const { isIP } = await import('node:net');
  const bad = (opts.device ?? []).find((a) => isIP(a) === 0);
  if (bad !== undefined)
    throw new UsageError(`--device ${JSON.stringify(bad)} is not an IPv4 or IPv6 address`);

  // The allowlist first: a broken allowlist should not cost a long capture read. Its modules (yaml,
  // zod) take longer to load than a small capture takes to analyse, so only when there is one.
  const allowlist =
    opts.allowlist !== undefined
      ? (await import('../verdict/read-allowlist.js')).readAllowlist(opts.allowlist)
      : undefined;

  const identifiers =
    opts.identifiers !== undefined
      ? await (async () => {
          const { readIdentifierFile } = await import('../identifiers/identifier-file.js');
          const { fingerprintKey } = await import('../identifiers/mask.js');
          return { sought: await readIdentifierFile(opts.identifiers!), key: fingerprintKey() };
        })()
      : undefined;

  // What interception saw, read before the capture too: a bad line fails fast, naming it.
  if (opts.ignoreHosts && opts.exchanges === undefined)
    throw new UsageError('--ignore-hosts goes with --exchanges');
  const ignore = (opts.ignoreHosts ?? []).map((p) => {
    try {
      return new RegExp(p, 'i');
    } catch {
      throw new UsageError(`--ignore-hosts: not a regular expression: ${p}`);
    }
  });
  const intercept =
    opts.exchanges !== undefined
      ? await (async () => {
          const { readFile } = await import('node:fs/promises');
          const { parseExchanges } = await import('../intercept/exchanges.js');
          let text: string;
          try {
            text = await readFile(opts.exchanges!, 'utf8');
          } catch (e) {
            throw new UsageError(`cannot read ${opts.exchanges}: ${errnoText(e)}`, { cause: e });
          }
          return { log: parseExchanges(text, opts.exchanges!), ignore };
        })()
      : undefined;

  // The lab's overrides and party lists are read before the capture too: a bad file fails fast.
  const located = await (async () => {
    if (!opts.geo && (opts.geoOverrides ?? []).length === 0) return undefined;
    let maker: import('../geo/parties.js').Owner | undefined;
    if (opts.profile !== undefined) {
      const { loadProfiles } = await import('../device/profiles.js');
      const profile = (await loadProfiles()).find((p) => p.name === opts.profile);
      if (!profile)
        throw new UsageError(`--profile: no device profile named ${JSON.stringify(opts.profile)}`);
      maker = profile.maker;
    }
    const { openGeo } = await import('../geo/open-locator.js');
    const geo = await openGeo({
      ...(opts.geo ? {} : { databases: false }),
      overrideFiles: opts.geoOverrides ?? [],
    });
    return { locator: geo.locatorFor(maker), close: () => geo.close() };
  })();

  const [{ analyzeFile, analyzeStream, nothingToJudge }, { CaptureFormatError }] = await Promise.all([
    import('../analyze.js'),
    import('../packets/packet.js'),
  ]);
  await checkCapture(capture);
  const shown = capture === '-' ? 'standard input' : capture;
  const analyzeOpts = {
    ...(opts.device ? { deviceAddrs: opts.device } : {}),
    ...(identifiers ? { identifiers } : {}),
    ...(located ? { locator: located.locator } : {}),
    ...(intercept ? { intercept } : {}),
  };
  let analysis: Awaited<ReturnType<typeof analyzeStream>>;
  try {
    analysis =
      capture === '-'
        ? await analyzeStream(process.stdin, analyzeOpts)
        : await analyzeFile(capture, analyzeOpts);
  } catch (e) {
    if (e instanceof CaptureFormatError) {
      throw new UsageError(`${shown} is not a pcap or pcapng capture (${e.message})`, { cause: e });
    }
    if (isSystemError(e)) throw new UsageError(`cannot read ${shown}: ${errnoText(e)}`, { cause: e });
    throw e;
  } finally {
    located?.close();
  }

  const { terminalSafe } = await import('../format/terminal-text.js');
  // Fail closed: nothing read is nothing proven, with or without an allowlist.
  const empty = nothingToJudge(analysis);
  if (empty !== undefined) throw new UsageError(`${shown}: nothing to judge: ${empty}`);
  const t = analysis.capture.truncated;
  if (t) {
    const frames = `${analysis.capture.frames} frame${analysis.capture.frames === 1 ? '' : 's'}`;
    process.stderr.write(
      `phonehome: warning: ${terminalSafe(shown)} ${t.corrupt ? 'is corrupt' : 'is truncated'} at byte ` +
        `${t.offset} (${terminalSafe(t.message)}); analysed the ${frames} before it\n`,
    );
  }

  const verdict = allowlist
    ? (await import('../verdict/verdict.js')).judge(
        (await import('../verdict/judged-flows.js')).judgedFlows(analysis.flows, opts.canaryDomain),
        allowlist,
        {
          captureComplete: opts.captureComplete === true,
          ...(analysis.geo ? { geo: analysis.geo } : {}),
          ...(analysis.identifiers ? { leaks: analysis.identifiers.leaks } : {}),
        },
      )
    : undefined;
  if (analysis.intercept) {
    if (analysis.intercept.problem) analysis.warnings.push(analysis.intercept.problem);
    if (verdict) verdict.intercept = analysis.intercept;
  }

  let text: string | Iterable<string>;
  if (opts.format === 'json') {
    const { analyzeJsonChunks } = await import('../format/analyze-json.js');
    text = analyzeJsonChunks(capture, analysis, verdict);
  } else if (opts.format === 'csv') {
    const { formatAnalyzeCsv } = await import('../format/analyze-csv.js');
    text = formatAnalyzeCsv(analysis, verdict);
    // CSV has no place for warnings: they go to stderr.
    for (const w of [...analysis.warnings, ...(verdict?.warnings ?? [])]) {
      process.stderr.write(`phonehome: warning: ${terminalSafe(w)}\n`);
    }
  } else {
    const { formatAnalyzeTable } = await import('../format/analyze-table.js');
    text = formatAnalyzeTable(capture, analysis, verdict);
  }

  if (opts.out !== undefined && opts.out !== '-') {
    const { writeFileAtomic } = await import('../atomic-write.js');
    try {
      await writeFileAtomic(opts.out, text);
    } catch (e) {
      throw new UsageError(`cannot write ${opts.out}: ${errnoText(e)}`, { cause: e });
    }
  } else {
    const { writeBatches } = await import('../atomic-write.js');
    for (const batch of writeBatches(typeof text === 'string' ? [text] : text)) {
      // Wait for each batch to be taken, so a slow reader does not pile the document up in memory.
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(batch, (err) => (err ? reject(err) : resolve())),
      );
    }
  }
  return verdict?.outcome === 'violations' ? 1 : 0;
}
