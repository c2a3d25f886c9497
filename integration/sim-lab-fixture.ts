/**
 * Test fixture for the sim network integration tests: a lab with N phones, its servers and agents,
 * removed by name in dispose() whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrafficState } from '../sim/contracts.js';
import { ensureLabCert, startInternet } from '../sim/net/internet.js';
import {
  createLabCore,
  createPhoneNetwork,
  freeSubnetIndex,
  removeLab,
  run,
  withLabLock,
} from '../sim/net/lab.js';
import { type LabPlan, labIdFor, planLab } from '../sim/net/lab-plan.js';
import { createPhoneNet, type LabPhoneNet } from '../sim/net/phone-net.js';
import { loadTrafficProfile } from '../sim/net/traffic-schema.js';

export const XIAOMI_TRAFFIC = 'devices/sim/xiaomi-redmi-note-13.traffic.yaml';

export const IDLE: TrafficState = {
  online: true,
  screenOn: false,
  backupEnabled: false,
  backupRunning: false,
  analyticsConsent: true,
  adsConsent: true,
  accountSignedIn: false,
  simInserted: false,
  cloudMessaging: false,
  locationOn: false,
  ids: {
    imei: '861234567890123',
    androidId: 'a1b2c3d4e5f60718',
    serial: 'SIMREDMI01',
    advertisingId: 'ad-id-1',
    wifiMac: '02:42:0a:d5:00:05',
    imsi: '',
    iccid: '',
    phoneNumber: '',
  },
  packages: ['com.android.chrome', 'com.xiaomi.xmsf'],
  contacts: [],
  events: { contactAdded: 0, smsReceived: 0, smsSent: 0, setupCompleted: 0 },
};

export interface TestLab {
  plan: LabPlan;
  phones: LabPhoneNet[];
  dir: string;
  dispose(): Promise<void>;
}

let labs = 0;

/** Builds a lab; each phone gets its own speed/misbehaviour settings. */
export async function startTestLab(
  phones: { traffic: string; speed: number; misbehave?: string[] }[],
): Promise<TestLab> {
  const id = labIdFor(`${process.pid}-${labs++}-${Date.now()}`);
  let plan: LabPlan | undefined;
  const namespaces: string[] = [];
  const links: string[] = [];
  const rec = { namespace: (n: string) => namespaces.push(n), link: (n: string) => links.push(n) };
  const nets: LabPhoneNet[] = [];
  const dir = await mkdtemp(join(tmpdir(), `${id}-`));
  const dispose = async () => {
    for (const n of nets) await n.close().catch(() => undefined);
    await removeLab(namespaces, links);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const lab = await withLabLock(async () => {
      const p = planLab(id, await freeSubnetIndex(17 + (process.pid % 100)), phones.length);
      await createLabCore(p, rec);
      return p;
    });
    plan = lab;
    await startInternet(lab, await ensureLabCert(join(dir, 'cache')));
    for (const [i, p] of phones.entries()) {
      await createPhoneNetwork(lab, lab.phones[i]!, rec);
      nets.push(
        await createPhoneNet({
          lab,
          phone: lab.phones[i]!,
          profile: await loadTrafficProfile(p.traffic),
          speed: p.speed,
          misbehave: p.misbehave ?? [],
        }),
      );
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { plan: plan!, phones: nets, dir, dispose };
}

/** A running tcpdump on a host interface. */
export interface HostCapture {
  file: string;
  stop(): Promise<void>;
}

/** Starts tcpdump on a host interface, resolving once it listens. */
export async function captureOn(iface: string, file: string): Promise<HostCapture> {
  const p: ChildProcess = spawn('tcpdump', [
    '-i',
    iface,
    '-n',
    '-U',
    '-s',
    '0',
    '--immediate-mode',
    '-w',
    file,
  ]);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    p.once('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${err}`)));
  });
  return {
    file,
    stop: async () => {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT');
      await gone;
    },
  };
}

/** Names seen in a capture, read by tshark: DNS query names, TLS/QUIC SNIs and HTTP hosts. */
export async function namesIn(file: string): Promise<{
  dns: Set<string>;
  sni: Set<string>;
  http: Set<string>;
  /** Every source and destination address. */
  addrs: Set<string>;
  /** The same, leaving out packets to link-local multicast groups (224.0.0.0/24, flooded to every port of a LAN). */
  unicastAddrs: Set<string>;
}> {
  const out = await run(
    'tshark',
    [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'dns.qry.name',
      '-e',
      'tls.handshake.extensions_server_name',
      '-e',
      'http.host',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
    ],
    60_000,
  );
  const sets = {
    dns: new Set<string>(),
    sni: new Set<string>(),
    http: new Set<string>(),
    addrs: new Set<string>(),
    unicastAddrs: new Set<string>(),
  };
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [dns, sni, http, src, dst] = line.split('|');
    for (const n of (dns ?? '').split(',')) if (n) sets.dns.add(n);
    for (const n of (sni ?? '').split(',')) if (n) sets.sni.add(n);
    for (const n of (http ?? '').split(',')) if (n) sets.http.add(n);
    for (const a of [src, dst]) if (a) sets.addrs.add(a);
    if (!/^224\.0\.0\.\d{1,3}$/.test(dst ?? '')) for (const a of [src, dst]) if (a) sets.unicastAddrs.add(a);
  }
  return sets;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
