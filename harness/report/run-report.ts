/**
 * One run as a report entry: name, identity across nights, status, labels, parameters, the pipeline's
 * steps with their times, and the evidence to attach. Pure: a read run folder in, plain data out. Both
 * writers consume it: allure-results.ts (files) and allure-runtime.ts (inside an allure-mocha test).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { DeviceFacts } from '../device/facts.js';
import { findingLine } from '../drift/drift.js';
import type { TwinComparison, TwinRow } from '../drift/twins.js';
import { formatAnalyzeCsv } from '../format/analyze-csv.js';
import { formatBytes } from '../format/bytes.js';
import { type PhaseRecord, type RunResult, recordLine, scenarioSteps } from '../record/run-record.js';
import type { Severity } from '../verdict/allowlist-schema.js';
import { unmetText, type Verdict } from '../verdict/verdict.js';
import { bytesChart } from './bytes-chart.js';
import { hostSummary, hostSummaryTable } from './host-summary.js';
import { type HtmlTable, htmlPage } from './html-page.js';
import { escapeHtml } from './html-text.js';
import { nightMatrix } from './night-matrix.js';
import type { RunFile, RunFolder } from './run-folder.js';
import { type FlowMark, timelineChart } from './timeline-chart.js';
import { violationTables } from './violation-tables.js';
import { whereItWent, whereTables } from './where-it-went.js';

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
export function runIdentity(
  run: {
    result: Pick<RunResult, 'serial' | 'scenario'>;
    facts?: Pick<DeviceFacts, 'manufacturer' | 'model'> | undefined;
  },
  profile?: string,
): string {
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
    ...v.unmetExpectations.map((u) => `unmet expectation: ${unmetText(u)}`),
    ...v.budgets
      .filter((b) => b.exceeded)
      .map((b) => `budget exceeded: ${b.ruleText} (${b.connections} connections, ${bytes(b.bytes)})`),
  ];
}

/** The drift findings, one line each, as the status trace shows them. */
function driftLines(run: RunFolder): string[] {
  return (run.result.drift?.findings ?? []).map((f) => `drift: ${findingLine(f)}`);
}

function statusDetails(run: RunFolder): RunReport['statusDetails'] {
  const { outcome, reason } = run.result;
  // The record line first: categories.json sorts runs by it.
  const record = recordLine(run.result);
  // A passed run's drift is still news (drift: warn): the Drift category finds it by its record.
  if (outcome === 'passed')
    return run.result.drift?.findings.length
      ? { message: reason, trace: [record, ...driftLines(run)].join('\n') }
      : {};
  if (outcome === 'failed') {
    const subjects = (run.verdict?.violations ?? []).map((v) => v.subject);
    const shown = subjects.slice(0, 5).join(', ') + (subjects.length > 5 ? ', …' : '');
    return {
      message: subjects.length ? `${reason}: ${shown}` : reason,
      trace: [record, ...evidenceLines(run), ...driftLines(run)].join('\n'),
    };
  }
  const tail = run.log
    .slice(-25)
    .map((l) => (Number.isFinite(l.ts) ? `${new Date(l.ts).toISOString()} ` : '') + l.text);
  return { message: reason, trace: [record, ...tail, ...run.problems].join('\n') };
}

/** The title of a phase in the report. */
function phaseTitle(p: PhaseRecord): string {
  return p.phase === 'canary' ? `canary ${p.name}` : p.name;
}

/** One recorded phase as a report step; `runEnd` closes a phase the run broke in before it ended. */
function phaseStep(p: PhaseRecord, run: RunFolder, runEnd: number | undefined): ReportStep {
  const s: ReportStep = { name: phaseTitle(p), status: p.status, parameters: [], steps: [], attachments: [] };
  if (p.detail) s.message = p.detail;
  if (Number.isFinite(p.tsStart) && p.tsStart > 0) s.start = p.tsStart * 1000;
  const stop = p.tsEnd > 0 ? p.tsEnd * 1000 : runEnd;
  if (stop !== undefined && Number.isFinite(stop)) s.stop = Math.max(stop, s.start ?? stop);
  if (p.kind) s.parameters.push({ name: 'kind', value: p.kind });
  if (p.provider) s.parameters.push({ name: 'provider', value: p.provider });
  for (const [name, value] of Object.entries(p.figures ?? {}))
    s.parameters.push({ name, value: String(value) });
  s.steps = (p.parts ?? []).map((part) => phaseStep(part, run, s.stop));
  const shot = p.screenshot
    ? run.files.screenshots.find((f) => basename(f.path) === p.screenshot)
    : undefined;
  if (shot) {
    s.attachments.push({
      name: p.screenshot!,
      contentType: 'image/png',
      fileExtension: '.png',
      path: shot.path,
    });
  }
  if (p.phase === 'verdict' && run.verdict) {
    // Each piece of evidence under the verdict, at the verdict's time.
    for (const line of evidenceLines(run)) {
      const e: ReportStep = { name: line, status: 'failed', parameters: [], steps: [], attachments: [] };
      if (s.stop !== undefined) {
        e.start = s.stop;
        e.stop = s.stop;
      }
      s.steps.push(e);
    }
  }
  return s;
}

/**
 * Drift against the baseline as a step after the verdict, a sub-step per finding: failed under
 * drift: fail, broken (Allure's yellow: look at this) under drift: warn.
 */
function driftStep(run: RunFolder, at: number | undefined): ReportStep | undefined {
  const d = run.result.drift;
  if (!d) return undefined;
  const status: ReportStatus = d.findings.length === 0 ? 'passed' : d.policy === 'fail' ? 'failed' : 'broken';
  const against = d.baseline
    ? `against ${d.baseline.runs.length} accepted run${d.baseline.runs.length === 1 ? '' : 's'}`
    : 'no baseline';
  const step: ReportStep = {
    name: `drift (${d.policy}): ${d.findings.length} change${d.findings.length === 1 ? '' : 's'}, ${against}`,
    status,
    parameters: d.baseline ? [{ name: 'baseline', value: d.baseline.file }] : [],
    steps: d.findings.map((f) => ({
      name: findingLine(f),
      status,
      parameters: [
        { name: 'change', value: f.kind },
        ...(f.step ? [{ name: 'step', value: f.step }] : []),
        ...(f.countries?.length ? [{ name: 'country', value: f.countries.join(', ') }] : []),
      ],
      steps: [],
      attachments: [],
      ...(at !== undefined ? { start: at, stop: at } : {}),
    })),
    attachments: [],
    ...(at !== undefined ? { start: at, stop: at } : {}),
  };
  if (d.note) step.message = d.note;
  return step;
}

/** The pipeline's steps, as the run recorded its phases in result.json. */
export function pipelineSteps(run: RunFolder): ReportStep[] {
  const { result } = run;
  // A phase the run broke in before it ended closes when the last recorded moment of the run does.
  const times = result.phases.flatMap((p) => [p.tsStart, p.tsEnd]).filter((t) => t > 0);
  const runEnd = times.length ? Math.max(...times) * 1000 : undefined;
  const steps = result.phases.map((p) => phaseStep(p, run, runEnd));
  const drift = driftStep(run, runEnd);
  if (drift) steps.push(drift);
  if (result.formatVersion < 2) {
    // Recorded before runs kept their phases: only the scenario's steps are known.
    steps.push({
      name: 'recorded by an older phonehome: the phases of its pipeline are in run.log',
      status: result.outcome === 'broken' ? 'broken' : 'passed',
      message: result.reason,
      parameters: [],
      steps: [],
      attachments: [],
    });
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
  const tries = run.result.earlierAttempts ?? [];
  if (tries.length)
    parts.push(
      `<p><b>Attempt ${tries.length + 1}</b> (--retries): ${tries
        .map((a) =>
          escapeHtml(
            `attempt ${a.attempt} was broken: ${a.reason}${a.phoneReturn ? `; the phone came ${a.phoneReturn}` : ''} (kept in ${basename(a.dir)})`,
          ),
        )
        .join('; ')}</p>`,
    );
  const t = run.twin;
  if (t)
    parts.push(
      `<p><b>Consent twin</b> (${escapeHtml(t.consent)} on: ${escapeHtml(t.on.scenario)}, off: ${escapeHtml(t.off.scenario)}): ${escapeHtml(
        t.onlyOn.hosts.length
          ? `${t.onlyOn.hosts.length} host${t.onlyOn.hosts.length === 1 ? '' : 's'} only with it on: ${t.onlyOn.hosts.slice(0, 8).join(', ')}${t.onlyOn.hosts.length > 8 ? ', …' : ''}`
          : 'no host only with it on',
      )}${t.onlyOn.leaks.length ? `; identifier leaks only with it on: ${escapeHtml(t.onlyOn.leaks.join(', '))}` : ''} (attachment "consent twin")</p>`,
    );
  const ic = run.analysis?.intercept;
  if (ic) {
    const notInside = ic.hosts.filter((h) => h.status !== 'inside');
    parts.push(
      `<p><b>Inside TLS</b> (mitmproxy): ${escapeHtml(
        `${ic.exchanges} requests read in ${ic.decryptedFlows} of ${ic.tlsFlows} TLS connections` +
          (notInside.length
            ? `; not read: ${notInside
                .slice(0, 8)
                .map((h) => `${h.host} (${h.status})`)
                .join(', ')}${notInside.length > 8 ? ', …' : ''}`
            : ''),
      )} (attachment "inside TLS")</p>`,
    );
  }
  const d = run.result.drift;
  if (d) {
    const against = d.baseline
      ? `against ${d.baseline.runs.length} accepted run${d.baseline.runs.length === 1 ? '' : 's'} (drift: ${d.policy})`
      : `(drift: ${d.policy})`;
    parts.push(
      `<p><b>Drift</b> ${escapeHtml(against)}: ${escapeHtml(d.findings.length ? `${d.findings.length} change${d.findings.length === 1 ? '' : 's'}` : (d.note ?? 'no change'))}</p>`,
    );
    if (d.findings.length)
      parts.push(
        `<ul>${d.findings.map((f) => `<li>${escapeHtml(f.kind)} <b>${escapeHtml(f.subject)}</b>: ${escapeHtml(f.detail)}</li>`).join('')}</ul>`,
      );
  }
  if (run.problems.length) {
    parts.push(`<p>Unreadable files: ${escapeHtml(run.problems.join('; '))}</p>`);
  }
  return parts.join('\n');
}

/** Files above this size are not copied into the results (a single-file report embeds every byte). */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

async function attachments(run: RunFolder, maxBytes: number): Promise<ReportAttachment[]> {
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
  const stepShots = new Set(scenarioSteps(result).flatMap((s) => (s.screenshot ? [s.screenshot] : [])));
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
        name: 'timeline',
        contentType: 'image/svg+xml',
        fileExtension: '.svg',
        body: await timelineChart(
          analysis.flows,
          scenarioSteps(result).map((p) => ({
            name: p.name,
            tsStart: p.tsStart,
            tsEnd: p.tsEnd ?? p.tsStart,
          })),
          flowMarks(verdict),
          `Timeline: ${title}`,
          {
            newHosts: new Set(
              (result.drift?.findings ?? []).filter((f) => f.kind === 'new-host').map((f) => f.subject),
            ),
          },
        ),
      },
      ...(run.baseline
        ? [
            {
              name: 'hosts by night',
              contentType: 'image/svg+xml',
              fileExtension: '.svg',
              body: await nightMatrix(run.baseline.earlier, run.baseline.run, `Hosts by night: ${title}`),
            },
          ]
        : []),
      ...(run.twin ? [twinAttachment(run.twin, title)] : []),
      ...(analysis.intercept
        ? [
            {
              name: 'inside TLS',
              contentType: 'text/html',
              fileExtension: '.html',
              body: htmlPage(`Inside TLS: ${title}`, insideTlsTables(analysis)),
            },
          ]
        : []),
      ...(await whereAttachments(analysis, title)),
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
    ...fileAttachment('exchanges.masked.jsonl', files.exchanges, 'text/plain', '.txt'),
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

/** The consent twins side by side: what only the consent-on run has, then every host with both runs' figures. */
function twinAttachment(t: TwinComparison, title: string): ReportAttachment {
  const fig = (x: TwinRow['on']) =>
    x ? [x.connections, formatBytes(x.bytesUp), formatBytes(x.bytesDown)] : ['-', '-', '-'];
  const only = (what: string, list: string[]) => ({ what, list: list.length ? list.join(', ') : 'none' });
  const onlyOn = [
    only('hosts', t.onlyOn.hosts),
    only('countries', t.onlyOn.countries),
    only('organisations', t.onlyOn.orgs),
    only('identifier leaks', t.onlyOn.leaks),
  ];
  return {
    name: 'consent twin',
    contentType: 'text/html',
    fileExtension: '.html',
    body: htmlPage(`Consent twin: ${t.consent} on (${t.on.scenario}) and off (${t.off.scenario}): ${title}`, [
      {
        caption: `Only with ${t.consent} on (${t.on.scenario}, run ${t.on.runId})`,
        head: ['what', 'only with the consent on'],
        rows: onlyOn.map((o) => [o.what, o.list]),
        empty: 'nothing',
      },
      {
        caption: `Side by side: ${t.on.scenario} (on) and ${t.off.scenario} (off)`,
        head: ['host', 'on: connections', 'on: up', 'on: down', 'off: connections', 'off: up', 'off: down'],
        rows: t.rows.map((r) => [r.host, ...fig(r.on), ...fig(r.off)]),
        empty: 'neither run contacted anything',
      },
      {
        caption: `Only with ${t.consent} off (${t.off.scenario})`,
        head: ['host'],
        rows: t.onlyOff.hosts.map((h) => [h]),
        empty: 'nothing',
      },
    ]),
  };
}

/** How the verdict saw each flow, for the timeline's colours. */
/**
 * What interception covered: per host, read inside TLS or why not (with bytes, so the reader knows
 * what the identifier search could see), and each request read, per connection, URLs masked.
 */
export function insideTlsTables(analysis: NonNullable<RunFolder['analysis']>): HtmlTable[] {
  const ic = analysis.intercept!;
  const time = (ts: number) => new Date(ts * 1000).toISOString().slice(11, 23);
  const requests = analysis.flows.flatMap((f) =>
    (f.intercepted?.requests ?? []).map((q) => [
      time(q.ts),
      f.names[0]?.name ?? f.resp.addr,
      `${f.orig.port}`,
      q.method,
      q.url,
      q.httpVersion,
      q.status ?? q.error ?? '',
      q.up,
      q.down,
    ]),
  );
  return [
    {
      caption: `Hosts and interception (${ic.decryptedFlows} of ${ic.tlsFlows} TLS connections read inside)`,
      head: ['host', 'seen', 'connections', 'bytes', 'requests read', 'apps'],
      rows: ic.hosts.map((h) => [h.host, h.status, h.flows, h.bytes, h.requests, (h.apps ?? []).join(', ')]),
      empty: 'no connection of the phone on TCP 80 or 443',
    },
    {
      caption: `Requests read inside (${requests.length})`,
      head: ['time (UTC)', 'host', 'phone port', 'method', 'URL', 'HTTP', 'status', 'body up', 'body down'],
      rows: requests,
      empty: 'none',
    },
  ];
}

function flowMarks(verdict: Verdict | undefined): Map<string, FlowMark> {
  const out = new Map<string, FlowMark>();
  for (const j of verdict?.judgements ?? [])
    out.set(j.uid, j.status === 'allowed' ? 'allowed' : j.status === 'tolerated' ? 'tolerated' : 'violation');
  return out;
}

/** Links the databases' licences ask for wherever their answers are shown. */
const ATTRIBUTION_LINKS: Record<string, string> = {
  'dbip-city': 'https://db-ip.com',
  asn: 'https://db-ip.com',
  'geo-whois-asn-country': 'https://www.nro.net',
};

/** The "where it went" table and the bytes chart, when the run's flows were located. */
async function whereAttachments(
  analysis: NonNullable<RunFolder['analysis']>,
  title: string,
): Promise<ReportAttachment[]> {
  const geo = analysis.geo;
  if (!geo) return [];
  const { countries, orgs } = whereItWent(analysis.flows);
  const credits = geo.databases.filter((d) => d.attribution !== '');
  const sources = geo.databases.map((d) => `${d.name} ${d.version}`).join(', ');
  return [
    {
      name: 'where it went',
      contentType: 'text/html',
      fileExtension: '.html',
      body: htmlPage(
        `Where it went: ${title}`,
        whereTables(analysis),
        credits.map((d) => ({
          text: d.attribution,
          ...(ATTRIBUTION_LINKS[d.name] ? { href: ATTRIBUTION_LINKS[d.name] } : {}),
        })),
      ),
    },
    {
      name: 'bytes per country and organisation',
      contentType: 'image/svg+xml',
      fileExtension: '.svg',
      body: await bytesChart(
        countries,
        orgs,
        `Where it went: ${title}`,
        `Sources: ${sources || 'none'}${geo.overrides ? `; ${geo.overrides} lab overrides` : ''}. ${credits.map((d) => d.attribution).join('. ')}`,
      ),
    },
  ];
}

/** Builds the report entry of one run. */
export async function buildRunReport(run: RunFolder, opts: RunReportOptions = {}): Promise<RunReport> {
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
    attachments: await attachments(run, opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES),
  };
  if (times.length) {
    report.start = Math.min(...times);
    report.stop = Math.max(...times);
  }
  return report;
}
