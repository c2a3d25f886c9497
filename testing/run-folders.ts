/**
 * Realistic run folders for the report's tests, written by hand in the shapes the run record documents
 * (harness/record/run-record.ts): result.json with its phases, device.json, flows.json, verdict.json (judged by the real judge against a real
 * allowlist), run.log, logcat.txt, a valid pcap and a valid PNG. Hostile host names included.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Analysis } from '../harness/analyze.js';
import type { DeviceFacts } from '../harness/device/facts.js';
import type { Flow } from '../harness/flows/flow.js';
import {
  type BrokenRecord,
  type PhaseRecord,
  RUN_FORMAT_VERSION,
  type RunOutcome,
  type RunResult,
  VERDICT_FORMAT_VERSION,
} from '../harness/record/run-record.js';
import { loadAllowlist } from '../harness/verdict/allowlist.js';
import { judge } from '../harness/verdict/verdict.js';

/** A host name that is markup. */
export const HOSTILE_HOST = '<img src=x onerror=alert(1)>.example';
/** A host name with both quotes and an ampersand. */
export const QUOTED_HOST = `q"uo'te&amp.example`;

/** The allowlist the test runs are judged by. */
export const TEST_ALLOWLIST = `
allow:
  - {host: "*.xiaomi.net", reason: Mi Push and cloud}
  - {host: connectivitycheck.gstatic.com, reason: captive portal check}
  - {ip: 192.168.1.1, port: 53, proto: udp, reason: lab resolver}
forbid:
  - {host: "*.ad.intl.xiaomi.com", severity: critical, reason: advertising}
`;

const PHONE_IP = '192.168.1.10';

/** Device facts of the two test phones. */
export const PHONES: Record<'xiaomi' | 'pixel', DeviceFacts> = {
  xiaomi: {
    serial: 'R58M123ABC',
    manufacturer: 'Xiaomi',
    model: 'Redmi Note 13',
    device: 'sapphire',
    androidVersion: '14',
    sdk: 34,
    rom: 'HyperOS',
    romVersion: 'OS1.0.3.0.UNGEUXM',
    region: 'global',
    fingerprint: 'Redmi/sapphire_global/sapphire:14/UKQ1.231003.002/OS1.0.3.0.UNGEUXM:user/release-keys',
    hardwareSerial: 'R58M123ABC',
    wifiIp: PHONE_IP,
    rooted: false,
    pcapdroidInstalled: true,
    simCard: false,
    properties: {},
  },
  pixel: {
    serial: '127.0.0.1:5601',
    manufacturer: 'Google',
    model: 'Pixel 7',
    device: 'panther',
    androidVersion: '14',
    sdk: 34,
    rom: 'Pixel stock',
    romVersion: 'AP2A.240805.005',
    region: 'en-US',
    fingerprint: 'google/panther/panther:14/AP2A.240805.005/12025142:user/release-keys',
    hardwareSerial: '28201FDH2000AB',
    wifiIp: PHONE_IP,
    rooted: false,
    pcapdroidInstalled: false,
    simCard: false,
    properties: {},
  },
};

/** What a test run looks like. */
export interface TestRunSpec {
  runId: string;
  phone: keyof typeof PHONES;
  scenario: string;
  outcome: RunOutcome;
  /** For broken runs: the reason. */
  reason?: string;
  /**
   * For broken runs: where and what kind (default: from the reason's first words, as run-one.ts
   * words them; the phases stop there).
   */
  broken?: Pick<BrokenRecord, 'stage' | 'kind'>;
  /** Hosts the phone contacted over TLS during the steps. */
  hosts: string[];
  /** Start, seconds since the epoch. */
  t0: number;
  /** Add two UI steps after idling: one with a screenshot, one skipped for want of a UI. */
  ui?: boolean;
}

function flow(n: number, t: number, host: string): Flow {
  return {
    uid: `C${n.toString(36)}`,
    proto: 'tcp',
    orig: { addr: PHONE_IP, port: 40000 + n },
    resp: { addr: `203.0.113.${n}`, port: 443 },
    tsStart: t,
    tsEnd: t + 1.5,
    origBytes: 1200 * n,
    respBytes: 5400 * n,
    origPkts: 8,
    respPkts: 9,
    connState: 'SF',
    service: 'tls',
    names: [{ name: host, source: 'sni' }],
    tls: { sni: host, alpn: ['h2', 'http/1.1'], ech: false, tlsVersion: 0x0304 },
  };
}

/** A valid little-endian pcap with one Ethernet/IPv4/UDP frame. */
export function tinyPcap(tsSeconds: number): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const frame = Buffer.from(
    '02000000000102000000000208004500001c0001000040110000c0a8010ac0a80101' + 'a0000035000800000000',
    'hex',
  );
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(Math.floor(tsSeconds), 0);
  rec.writeUInt32LE(0, 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([header, rec, frame]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid 4×4 red PNG. */
export function tinyPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0);
  ihdr.writeUInt32BE(4, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.concat(
    Array.from({ length: 4 }, () => Buffer.from([0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0])),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const iso = (t: number) => new Date(t * 1000).toISOString();

/** Where run-one.ts records a break, from the first words of its reason. */
function brokenFromReason(reason: string): Pick<BrokenRecord, 'stage' | 'kind'> {
  if (reason.startsWith('capture not working')) return { stage: 'analysis', kind: 'capture' };
  if (reason.startsWith('preparation failed')) return { stage: 'prepare', kind: 'preparation' };
  if (reason.startsWith('phone lost')) return { stage: 'step', kind: 'device-lost' };
  return { stage: 'capture stop', kind: 'infrastructure' };
}

/**
 * The phases as run-one.ts leaves them when the run broke in `stage`: that phase (for a step, the
 * second one: the phone went away while idling) broken, nothing after it but the capture stop that
 * follows a break during the steps.
 */
function breakPhases(result: RunResult, stage: PhaseRecord['phase'], at: number): void {
  const phases = result.phases;
  const i =
    stage === 'step'
      ? phases.findIndex((p) => p.name === 'idle 60 s')
      : phases.findIndex((p) => p.phase === stage);
  const hit = phases[i]!;
  const capStop = phases.find((p) => p.phase === 'capture stop')!;
  phases.length = i + 1;
  const brokenAt = stage === 'step' ? hit.tsStart + 26 : hit.tsEnd || at;
  hit.status = 'broken';
  hit.detail = result.reason;
  hit.tsEnd = brokenAt;
  if (stage === 'prepare') hit.parts![1] = { ...hit.parts![1]!, status: 'broken', detail: result.reason };
  if (stage === 'analysis')
    hit.parts![1] = {
      ...hit.parts![1]!,
      status: 'broken',
      detail: hit.parts![1]!.detail.replace(/seen$/, 'not seen'),
    };
  if (stage === 'step') phases.push({ ...capStop, tsStart: brokenAt, tsEnd: brokenAt + 1 });
  if (stage === 'prepare' || stage === 'capture start') delete result.capture;
}

/** Writes one run folder under root (root/RUN_ID/SERIAL/SCENARIO) and returns its path. */
export async function writeTestRun(root: string, spec: TestRunSpec): Promise<string> {
  const facts = PHONES[spec.phone];
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  const dir = join(root, safe(spec.runId), safe(facts.serial), safe(spec.scenario));
  await mkdir(dir, { recursive: true });
  const t0 = spec.t0;
  const canaries = {
    start: `start-${spec.runId.toLowerCase()}.canary.phonehome.test`,
    end: `end-${spec.runId.toLowerCase()}.canary.phonehome.test`,
    startSeen: spec.outcome !== 'broken',
    endSeen: spec.outcome !== 'broken',
  };
  const phase = (
    p: PhaseRecord['phase'],
    name: string,
    tsStart: number,
    tsEnd: number,
    more: Partial<PhaseRecord> = {},
  ): PhaseRecord => ({ phase: p, name, tsStart, tsEnd, status: 'passed', detail: '', ...more });
  const steps: PhaseRecord[] = [
    phase('step', 'unlock screen', t0 + 3, t0 + 4, { kind: 'adb', provider: 'adb', detail: 'exit 0' }),
    phase('step', 'idle 60 s', t0 + 4, t0 + 64, {
      kind: 'wait',
      provider: 'wait',
      detail: 'waited 60000 ms',
    }),
  ];
  if (spec.ui) {
    steps.push(
      phase('step', 'open privacy settings', t0 + 64, t0 + 64.2, {
        kind: 'action',
        provider: 'ui',
        detail: 'UI: tapped Privacy',
        screenshot: 'step-3.png',
      }),
      phase('step', 'turn off ads', t0 + 64.2, t0 + 64.25, {
        kind: 'action',
        provider: 'none',
        status: 'skipped',
        detail: 'no UI and no adb equivalent',
      }),
    );
  }
  const flows = spec.hosts.map((h, i) => flow(i + 1, t0 + 10 + i * 5, h));
  const analysis: Analysis = {
    formatVersion: 2,
    capture: { format: 'pcap', frames: flows.length * 17 + 4, bytes: 4096, linkTypes: [1] },
    flows,
    dns: [],
    device: { addrs: [PHONE_IP], inferred: false },
    skipped: [],
    warnings: [],
  };
  const allowlist = loadAllowlist('idle.yaml', () => TEST_ALLOWLIST);
  const verdict = judge(flows, allowlist);
  const stepsEnd = steps.at(-1)!.tsEnd;
  const capture = { packets: analysis.capture.frames, dropped: 0, bytes: 4096, notes: [] };
  const phases: PhaseRecord[] = [
    phase('prepare', 'prepare', t0, t0 + 1.5, {
      parts: [
        phase('prepare', 'read device facts', t0, t0 + 1, {
          detail: `${facts.manufacturer} ${facts.model}, Android ${facts.androidVersion}`,
        }),
        phase('prepare', 'airplane-off', t0 + 1, t0 + 1.5, { detail: 'wifi on' }),
      ],
    }),
    phase('capture start', 'capture start', t0 + 1.5, t0 + 2, { figures: { backend: 'tcpdump' } }),
    phase('canary', canaries.start, t0 + 2, t0 + 2.5, { detail: 'ping exit 1' }),
    ...steps,
    phase('canary', canaries.end, stepsEnd, t0 + 64.5, { detail: 'ping exit 1' }),
    phase('capture stop', 'capture stop', t0 + 64.5, t0 + 66, {
      figures: { packets: capture.packets, dropped: 0, bytes: 4096 },
    }),
    phase('analysis', 'analyse', t0 + 66, t0 + 66.5, {
      figures: { flows: flows.length, 'DNS responses': 0, frames: analysis.capture.frames },
      parts: [
        phase('analysis', 'start canary in the capture', t0 + 66.5, t0 + 66.5, {
          detail: `${canaries.start} seen`,
        }),
        phase('analysis', 'end canary in the capture', t0 + 66.5, t0 + 66.5, {
          detail: `${canaries.end} seen`,
        }),
      ],
    }),
  ];
  const log: [number, string][] = [
    [t0, `run ${spec.runId}: ${spec.scenario} on ${facts.serial}`],
    [t0 + 1, `device: ${facts.manufacturer} ${facts.model}, Android ${facts.androidVersion}`],
    [t0 + 1.5, 'prepare airplane-off: wifi on'],
    [t0 + 2, 'capture: tcpdump started'],
    [t0 + 2.5, `canary ${canaries.start}: ping exit 1`],
    [t0 + 3, 'step unlock screen'],
    [t0 + 4, 'step idle 60 s'],
    [t0 + 64.5, `canary ${canaries.end}: ping exit 1`],
    [t0 + 66, `capture: ${analysis.capture.frames} packets, drops 0`],
  ];
  const result: RunResult = {
    formatVersion: RUN_FORMAT_VERSION,
    runId: spec.runId,
    serial: facts.serial,
    scenario: spec.scenario,
    outcome: spec.outcome,
    reason: '',
    dir,
    phases,
    canaries,
    capture,
    violations: [],
    facts,
  };
  const write = (name: string, data: string | Buffer) => writeFile(join(dir, name), data);
  await write('device.json', JSON.stringify(facts, null, 2));
  await write('capture.pcap', tinyPcap(t0 + 10));
  if (spec.ui) await write('step-3.png', tinyPng());
  await write('logcat.txt', `${iso(t0)} I/ActivityManager: Start proc com.miui.analytics\n`);
  await write('flows.json', JSON.stringify(analysis, null, 2));
  if (spec.outcome === 'broken') {
    result.reason = spec.reason ?? 'infrastructure error: adb went away';
    const where = spec.broken ?? brokenFromReason(result.reason);
    result.broken = { ...where, detail: result.reason };
    breakPhases(result, where.stage, t0 + 67);
    canaries.startSeen = where.stage === 'analysis';
    canaries.endSeen = false;
    log.push([t0 + 67, `broken: ${result.reason}`]);
    await write('screenshot.png', tinyPng());
  } else {
    result.verdict = verdict;
    result.violations = verdict.violations.map((v) => ({
      subject: v.subject,
      ruleText: v.ruleText,
      step: 'idle 60 s',
    }));
    result.outcome = verdict.outcome === 'allowed' ? 'passed' : 'failed';
    result.reason =
      result.outcome === 'passed'
        ? `${flows.length} flows, all allowed`
        : `${verdict.violations.length} violations`;
    phases.push(
      phase('verdict', 'verdict', t0 + 66.5, t0 + 67.25, {
        status: result.outcome,
        detail: result.reason,
        figures: { allowlists: verdict.allowlistFiles.join(', ') },
      }),
    );
    await write(
      'verdict.json',
      JSON.stringify({ formatVersion: VERDICT_FORMAT_VERSION, ...verdict }, null, 2),
    );
    log.push([t0 + 68, `${result.outcome}: ${result.reason}`]);
    for (const v of result.violations)
      log.push([t0 + 68, `violation: ${v.subject} during ${v.step}: ${v.ruleText}`]);
    if (result.outcome === 'failed') await write('screenshot.png', tinyPng());
  }
  await write('run.log', log.map(([t, text]) => `${iso(t)} ${text}\n`).join(''));
  await write('result.json', JSON.stringify(result, null, 2));
  return dir;
}

/** The canned night: a failing Xiaomi (with hostile names), a passing Pixel and a Pixel whose capture broke. */
export async function writeTestNight(root: string, runId: string, t0: number): Promise<string[]> {
  return [
    await writeTestRun(root, {
      runId,
      phone: 'xiaomi',
      scenario: 'idle',
      outcome: 'failed',
      hosts: ['api.ad.intl.xiaomi.com', 'resolver.msg.global.xiaomi.net', HOSTILE_HOST, QUOTED_HOST],
      t0,
      ui: true,
    }),
    await writeTestRun(root, {
      runId,
      phone: 'pixel',
      scenario: 'idle',
      outcome: 'passed',
      hosts: ['connectivitycheck.gstatic.com'],
      t0: t0 + 100,
    }),
    await writeTestRun(root, {
      runId,
      phone: 'pixel',
      scenario: 'backup-off',
      outcome: 'broken',
      reason: 'capture not working: the end canary is not in the capture (1 flows seen)',
      hosts: ['connectivitycheck.gstatic.com'],
      t0: t0 + 200,
    }),
  ];
}
