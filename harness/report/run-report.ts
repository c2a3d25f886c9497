/**
 * One run as a report entry: name, identity across nights, status, labels, parameters, the pipeline's
 * steps with their times, and the evidence to attach. Pure: a read run folder in, plain data out. Both
 * writers consume it: allure-results.ts (files) and allure-runtime.ts (inside an allure-mocha test).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { formatAnalyzeCsv } from '../cli/analyze-csv.js';
import type { Severity } from '../verdict/allowlist-schema.js';
import type { Verdict } from '../verdict/verdict.js';
import { hostSummary, hostSummaryTable } from './host-summary.js';
import { htmlPage } from './html-page.js';
import { escapeHtml } from './html-text.js';
import type { LogLine, RunFile, RunFolder } from './run-folder.js';
import { violationTables } from './violation-tables.js';

/** Allure's statuses. */
export type ReportStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/** A name/value pair: a label or a parameter. */
export interface NameValue {
  /** Label or parameter name. */
  name: string;
  /** Its value (may be untrusted text from the phone). */
  value: string;
}

/** A parameter; excluded ones do not take part in Allure's history identity. */
export interface ReportParameter extends NameValue {
  /** True: a different value is still the same test across nights. */
  excluded: boolean;
}

/** One step of the pipeline. */
export interface ReportStep {
  /** Shown as the step's title. */
  name: string;
  /** Its outcome. */
  status: ReportStatus;
  /** Why it failed or broke, or what it did. */
  message?: string;
  /** Start, ms since the epoch (undefined when the run folder does not tell). */
  start?: number;
  /** End, ms since the epoch. */
  stop?: number;
  /** Figures of the step (packets, flows, exit status…). */
  parameters: NameValue[];
  /** Sub-steps. */
  steps: ReportStep[];
  /** Evidence of this step (the screenshot after a UI step). */
  attachments: ReportAttachment[];
}

/** Evidence to attach: a file of the run folder or text made for the report. */
export interface ReportAttachment {
  /** Title in the report. */
  name: string;
  /** MIME type. */
  contentType: string;
  /** File extension with its dot (".pcap"). */
  fileExtension: string;
  /** Content made for the report; exactly one of body and path is set. */
  body?: string;
  /** A file to copy. */
  path?: string;
}

/** Everything the report shows about one run. */
export interface RunReport {
  /** "SCENARIO on MODEL (SERIAL)". */
  name: string;
  /** Stable across nights: "phonehome/PROFILE-OR-MODEL/SCENARIO". */
  fullName: string;
  /** Allure 2.46 derives its history key from testCaseId (then fullName): the same stable text. */
  testCaseId: string;
  /** md5 of fullName: what allure-js would write; lines up trends and retries. */
  historyId: string;
  /** passed, failed (the allowlist was broken) or broken (the infrastructure was). */
  status: ReportStatus;
  /** message = the run's reason; trace = the evidence in text. */
  statusDetails: { message?: string; trace?: string };
  /** epic, feature, suite, parentSuite, host, severity, tag. */
  labels: NameValue[];
  /** serial, build fingerprint, ROM version, Android version, run id: all excluded from history. */
  parameters: ReportParameter[];
  /** Short HTML summary; every untrusted string escaped. */
  descriptionHtml: string;
  /** Start of the run, ms since the epoch. */
  start?: number;
  /** End of the run. */
  stop?: number;
  /** The pipeline, in order. */
  steps: ReportStep[];
  /** Evidence, most useful first. */
  attachments: ReportAttachment[];
}

/** What the builder may be told besides the run folder. */
export interface RunReportOptions {
  /** The device profile's name: the history identity when given (else maker and model). */
  profile?: string;
  /** Host label; omit inside allure-mocha, which adds its own. */
  host?: string;
  /** Larger run files are named, not attached (default DEFAULT_MAX_ATTACHMENT_BYTES). */
  maxAttachmentBytes?: number;
}

const SEVERITY_ORDER: Severity[] = ['blocker', 'critical', 'normal', 'minor', 'trivial'];

/** The worst severity among the verdict's violations; "normal" when there is none. */
export function worstSeverity(verdict: Verdict | undefined): Severity {
  let worst = SEVERITY_ORDER.length - 1;
  if (!verdict || verdict.violations.length === 0) return 'normal';
  for (const v of verdict.violations) worst = Math.min(worst, SEVERITY_ORDER.indexOf(v.severity ?? 'normal'));
  return SEVERITY_ORDER[worst] ?? 'normal';
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The identity of a run across nights: profile (or maker and model) and scenario. */
export function runIdentity(run: Pick<RunFolder, 'result' | 'facts'>, profile?: string): string {
  const phone = profile ?? (run.facts ? `${run.facts.manufacturer} ${run.facts.model}`.trim() : '');
  return `phonehome/${phone || run.result.serial}/${run.result.scenario}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function evidenceLines(run: RunFolder): string[] {
  const v = run.verdict;
  if (!v) return [];
  const stepOf = (s: string, r: string) =>
    run.result.violations.find((l) => l.subject === s && l.ruleText === r)?.step;
  return [
    ...v.violations.map((x) => {
      const step = stepOf(x.subject, x.ruleText);
      return (
        `${x.subject} (${x.provenance}, ${x.severity}): ${x.ruleText}; ${x.connections} connections, ` +
        `${bytes(x.bytesUp)} up, ${bytes(x.bytesDown)} down${step ? `; first during ${step}` : ''}`
      );
    }),
    ...v.unmetExpectations.map((u) => `unmet expectation: ${u.ruleText}`),
    ...v.budgets.filter((b) => b.exceeded).map((b) => `budget exceeded: ${b.ruleText} (${bytes(b.bytes)})`),
  ];
}

function statusDetails(run: RunFolder): RunReport['statusDetails'] {
  const { outcome, reason } = run.result;
  if (outcome === 'passed') return {};
  if (outcome === 'failed') {
    const subjects = (run.verdict?.violations ?? []).map((v) => v.subject);
    const shown = subjects.slice(0, 5).join(', ') + (subjects.length > 5 ? ', …' : '');
    return {
      message: subjects.length ? `${reason}: ${shown}` : reason,
      trace: evidenceLines(run).join('\n'),
    };
  }
  const tail = run.log
    .slice(-25)
    .map((l) => (Number.isFinite(l.ts) ? `${new Date(l.ts).toISOString()} ` : '') + l.text);
  return { message: reason, trace: [...tail, ...run.problems].join('\n') };
}

/** Builds the pipeline's steps from result.json, run.log and the artifacts' times. */
export function pipelineSteps(run: RunFolder): ReportStep[] {
  const { result } = run;
  const log = run.log.filter((l) => Number.isFinite(l.ts));
  const find = (re: RegExp): LogLine | undefined => log.find((l) => re.test(l.text));
  const brokenLine = find(/^broken: /);
  const endTs = brokenLine?.ts ?? find(/^(passed|failed): /)?.ts ?? log[log.length - 1]?.ts;
  const steps: ReportStep[] = [];
  const step = (
    name: string,
    start: number | undefined,
    stop: number | undefined,
    status: ReportStatus = 'passed',
  ) => {
    const s: ReportStep = { name, status, parameters: [], steps: [], attachments: [] };
    if (start !== undefined && Number.isFinite(start)) s.start = start;
    if (stop !== undefined && Number.isFinite(stop)) s.stop = Math.max(stop, s.start ?? stop);
    return s;
  };
  // A file's mtime tells when the pipeline wrote it, unless the folder was copied since (a CI artifact
  // downloaded the next morning): then only the log's times are believed.
  const written = (file: RunFile | undefined, after: number | undefined) => {
    const t = file?.mtimeMs;
    return t !== undefined && endTs !== undefined && t >= (after ?? endTs) && t <= endTs + 1000 ? t : endTs;
  };
  const brokeHere = (s: ReportStep) => {
    s.status = 'broken';
    s.message = result.reason;
  };

  // prepare: reading the phone's facts, then each preparation step.
  const runStart = log[0]?.ts ?? (result.steps[0] ? result.steps[0].tsStart * 1000 : undefined);
  const factsLine = find(/^device: /);
  const prepare = step('prepare', runStart, undefined);
  const facts = step('read device facts', runStart, factsLine?.ts ?? endTs, factsLine ? 'passed' : 'broken');
  if (factsLine) facts.message = factsLine.text.slice('device: '.length);
  else facts.message = result.reason;
  prepare.steps.push(facts);
  let last = facts.stop;
  for (const l of log.filter((x) => x.text.startsWith('prepare '))) {
    const m = /^prepare (.*?): (.*)$/.exec(l.text);
    const s = step(m?.[1] ?? l.text, last, l.ts);
    s.message = m?.[2] ?? '';
    if (result.outcome === 'broken' && m && result.reason.startsWith(`preparation failed: ${m[1]}:`))
      brokeHere(s);
    prepare.steps.push(s);
    last = l.ts;
  }
  prepare.stop = last ?? prepare.start;
  if (prepare.steps.some((s) => s.status === 'broken')) brokeHere(prepare);
  steps.push(prepare);
  if (prepare.status === 'broken') return steps;

  // capture start
  const started = find(/^capture: .* started$/);
  const capStart = step('capture start', prepare.stop, started?.ts ?? endTs, started ? 'passed' : 'broken');
  if (started) capStart.parameters.push({ name: 'backend', value: started.text.slice(9, -8) });
  else capStart.message = result.reason;
  steps.push(capStart);
  if (!started) return steps;

  // canaries and scenario steps, in the order they happened
  const canaries = log.filter((l) => l.text.startsWith('canary '));
  last = started.ts;
  const canaryStep = (l: LogLine | undefined) => {
    if (!l) return;
    const m = /^canary (\S+): (.*)$/.exec(l.text);
    const s = step(`canary ${m?.[1] ?? ''}`, last, l.ts);
    s.message = m?.[2] ?? '';
    steps.push(s);
    last = l.ts;
  };
  canaryStep(canaries[0]);
  for (const r of result.steps) {
    // A step with no end is the one the run broke in (the phone went away during it).
    const interrupted = r.tsEnd <= 0 && result.outcome === 'broken';
    const stop = r.tsEnd > 0 ? r.tsEnd * 1000 : endTs;
    const status = !r.ok || interrupted ? 'broken' : r.skipped ? 'skipped' : 'passed';
    const s = step(r.name, r.tsStart * 1000, stop, status);
    s.parameters.push({ name: 'kind', value: r.kind });
    if (r.detail) s.message = r.detail;
    if (!r.ok || interrupted) s.message = result.reason || r.detail;
    const shot = r.screenshot
      ? run.files.screenshots.find((f) => basename(f.path) === r.screenshot)
      : undefined;
    if (shot) {
      s.attachments.push({
        name: r.screenshot!,
        contentType: 'image/png',
        fileExtension: '.png',
        path: shot.path,
      });
    }
    steps.push(s);
    last = stop;
  }
  canaryStep(canaries[1]);

  // capture stop
  const stopped = find(/^capture: \d+ packets/);
  if (stopped || result.capture) {
    const s = step('capture stop', last, stopped?.ts ?? endTs);
    if (result.capture) {
      s.parameters.push(
        { name: 'packets', value: String(result.capture.packets) },
        { name: 'dropped', value: String(result.capture.dropped) },
        { name: 'bytes', value: String(result.capture.bytes) },
      );
      if (result.capture.notes.length) s.message = result.capture.notes.join('\n');
    }
    steps.push(s);
    last = s.stop;
  }

  // analyse, including the proof that the capture saw the phone (the canaries)
  if (stopped) {
    const broke = result.outcome === 'broken' && /^capture not working/.test(result.reason);
    const s = step(
      'analyse',
      stopped.ts,
      written(run.files.flowsJson, stopped.ts),
      broke ? 'broken' : 'passed',
    );
    if (run.analysis) {
      s.parameters.push(
        { name: 'flows', value: String(run.analysis.flows.length) },
        { name: 'DNS responses', value: String(run.analysis.dns.length) },
        { name: 'frames', value: String(run.analysis.capture?.frames ?? '') },
      );
    }
    if (run.analysis || broke) {
      for (const [which, seen, name] of [
        ['start', result.canaries.startSeen, result.canaries.start],
        ['end', result.canaries.endSeen, result.canaries.end],
      ] as const) {
        const c = step(`${which} canary in the capture`, s.stop, s.stop, seen ? 'passed' : 'broken');
        c.message = `${name} ${seen ? 'seen' : 'not seen'}`;
        s.steps.push(c);
      }
    }
    if (broke) s.message = result.reason;
    steps.push(s);
    last = s.stop;
  }

  // verdict
  if (run.verdict) {
    const v = run.verdict;
    const s = step(
      'verdict',
      last,
      written(run.files.verdictJson, last),
      v.outcome === 'allowed' ? 'passed' : 'failed',
    );
    s.message = result.outcome === 'broken' ? undefined : result.reason;
    s.parameters.push({ name: 'allowlists', value: v.allowlistFiles.join(', ') });
    const at = s.stop;
    for (const line of evidenceLines(run)) {
      const sub = step(line, at, at, 'failed');
      s.steps.push(sub);
    }
    steps.push(s);
  }

  if (result.outcome === 'broken' && !steps.some((s) => s.status === 'broken')) {
    const lastStep = steps[steps.length - 1];
    if (lastStep) brokeHere(lastStep);
  }
  return steps;
}

function descriptionHtml(run: RunFolder): string {
  const f = run.facts;
  const parts = [`<p><b>${escapeHtml(run.result.outcome)}</b>: ${escapeHtml(run.result.reason)}</p>`];
  if (f) {
    parts.push(
      `<p>${escapeHtml(
        `${f.manufacturer} ${f.model} (${f.device}), Android ${f.androidVersion}, ` +
          `${f.rom} ${f.romVersion}, region ${f.region || 'unknown'}`,
      )}</p>`,
    );
  }
  const lines = evidenceLines(run);
  if (lines.length) parts.push(`<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`);
  if (run.problems.length) {
    parts.push(`<p>Unreadable files: ${escapeHtml(run.problems.join('; '))}</p>`);
  }
  return parts.join('\n');
}

/** Files above this size are not copied into the results (a single-file report embeds every byte). */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

function attachments(run: RunFolder, maxBytes: number): ReportAttachment[] {
  const fileAttachment = (
    name: string,
    file: RunFile | undefined,
    contentType: string,
    ext: string,
  ): ReportAttachment[] => {
    if (!file) return [];
    if (file.size > maxBytes) {
      const mb = (file.size / 1024 / 1024).toFixed(1);
      return [
        {
          name: `${name} (not attached)`,
          contentType: 'text/plain',
          fileExtension: '.txt',
          body: `${name} is ${mb} MB, over the ${(maxBytes / 1024 / 1024).toFixed(0)} MB attachment limit; it stays in the run folder:\n${file.path}\n`,
        },
      ];
    }
    return [{ name, contentType, fileExtension: ext, path: file.path }];
  };
  const { result, verdict, analysis, files } = run;
  const title = `${result.scenario} on ${run.facts?.model ?? result.serial}`;
  // Screenshots taken after a step are attached to that step.
  const stepShots = new Set(result.steps.flatMap((s) => (s.screenshot ? [s.screenshot] : [])));
  const out: ReportAttachment[] = [];
  if (verdict) {
    out.push({
      name: 'violations',
      contentType: 'text/html',
      fileExtension: '.html',
      body: htmlPage(`Violations: ${title}`, violationTables(verdict, result.violations)),
    });
  }
  if (analysis) {
    out.push(
      {
        name: 'hosts',
        contentType: 'text/html',
        fileExtension: '.html',
        body: htmlPage(`Hosts: ${title}`, [hostSummaryTable(hostSummary(analysis, verdict))]),
      },
      {
        name: 'flows.csv',
        contentType: 'text/csv',
        fileExtension: '.csv',
        body: formatAnalyzeCsv(analysis, verdict),
      },
    );
  }
  out.push(
    ...fileAttachment('flows.json', files.flowsJson, 'application/json', '.json'),
    ...fileAttachment('verdict.json', files.verdictJson, 'application/json', '.json'),
    ...fileAttachment('capture.pcap', files.capture, 'application/vnd.tcpdump.pcap', '.pcap'),
    ...files.screenshots
      .filter((f) => !stepShots.has(basename(f.path)))
      .flatMap((f) => fileAttachment(basename(f.path), f, 'image/png', '.png')),
    ...files.stepOutputs.flatMap((f) => fileAttachment(basename(f.path), f, 'text/plain', '.txt')),
    ...fileAttachment('logcat.txt', files.logcat, 'text/plain', '.txt'),
    ...fileAttachment('run.log', files.runLog, 'text/plain', '.txt'),
  );
  if (run.problems.length) {
    out.push({
      name: 'unreadable files',
      contentType: 'text/plain',
      fileExtension: '.txt',
      body: `${run.problems.join('\n')}\n`,
    });
  }
  return out;
}

/** Builds the report entry of one run. */
export function buildRunReport(run: RunFolder, opts: RunReportOptions = {}): RunReport {
  const { result, facts } = run;
  const model = facts?.model || 'unknown model';
  const fullName = runIdentity(run, opts.profile);
  const steps = pipelineSteps(run);
  const times = [...steps.map((s) => s.start), ...steps.map((s) => s.stop)].filter(
    (t): t is number => t !== undefined,
  );
  const labels: NameValue[] = [
    { name: 'parentSuite', value: 'phonehome' },
    { name: 'suite', value: model },
    { name: 'epic', value: facts?.manufacturer || 'unknown maker' },
    { name: 'feature', value: result.scenario },
    { name: 'severity', value: worstSeverity(run.verdict) },
    ...(facts?.rom ? [{ name: 'tag', value: facts.rom }] : []),
    ...(opts.host ? [{ name: 'host', value: opts.host }] : []),
  ];
  const parameters: ReportParameter[] = [
    { name: 'serial', value: result.serial, excluded: true },
    { name: 'build fingerprint', value: facts?.fingerprint ?? 'unknown', excluded: true },
    {
      name: 'ROM version',
      value: facts ? `${facts.rom} ${facts.romVersion}`.trim() : 'unknown',
      excluded: true,
    },
    {
      name: 'Android version',
      value: facts ? `${facts.androidVersion} (SDK ${facts.sdk})` : 'unknown',
      excluded: true,
    },
    { name: 'run', value: result.runId, excluded: true },
  ];
  const report: RunReport = {
    name: `${result.scenario} on ${model} (${result.serial})`,
    fullName,
    testCaseId: fullName,
    historyId: md5(fullName),
    status: result.outcome,
    statusDetails: statusDetails(run),
    labels,
    parameters,
    descriptionHtml: descriptionHtml(run),
    steps,
    attachments: attachments(run, opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES),
  };
  if (times.length) {
    report.start = Math.min(...times);
    report.stop = Math.max(...times);
  }
  return report;
}
