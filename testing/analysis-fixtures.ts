/** A hand-built analysis for the formatters' tests: a phone, a resolver, allowed and hostile names. */
import type { Analysis } from '../harness/analyze.js';
import type { Flow } from '../harness/flows/flow.js';

const T0 = 1_551_693_600; // 2019-03-04 10:00:00 UTC

function flow(n: number, over: Partial<Flow>): Flow {
  return {
    uid: `C${n}`,
    proto: 'tcp',
    orig: { addr: '192.168.1.10', port: 40000 + n },
    resp: { addr: '10.0.0.1', port: 443 },
    tsStart: T0 + n,
    tsEnd: T0 + n + 1.5,
    origBytes: 100,
    respBytes: 200,
    origPkts: 3,
    respPkts: 4,
    names: [],
    ...over,
  };
}

/** Hostile text as a name could carry it off the wire. */
export const HOSTILE_NAME = 'evil.example\x1b[2J\x1b]0;owned\x07\n\u202emoc.elgoog';

export function testAnalysis(): Analysis {
  const flows: Flow[] = [
    flow(1, {
      proto: 'udp',
      resp: { addr: '192.168.1.1', port: 53 },
      service: 'dns',
      names: [
        { name: 'resolver.msg.global.xiaomi.net', source: 'dns-query' },
        { name: 'tracking.intl.miui.com', source: 'dns-query' },
      ],
      origBytes: 80,
      respBytes: 160,
    }),
    flow(2, {
      resp: { addr: '10.0.0.2', port: 443 },
      service: 'tls',
      connState: 'SF',
      names: [
        { name: 'resolver.msg.global.xiaomi.net', source: 'sni' },
        { name: 'resolver.msg.global.xiaomi.net', source: 'dns' },
      ],
      tls: {
        sni: 'resolver.msg.global.xiaomi.net',
        alpn: ['h2', 'http/1.1'],
        ech: false,
        tlsVersion: 0x0304,
      },
      origBytes: 5000,
      respBytes: 90000,
      app: { uid: 10123, name: 'com.xiaomi.xmsf' },
    }),
    flow(3, {
      resp: { addr: '10.0.0.3', port: 80 },
      service: 'http',
      connState: 'SF',
      names: [{ name: 'tracking.intl.miui.com', source: 'http-host' }],
      http: { method: 'POST', target: '/track/v4?x=1', version: 'HTTP/1.1', host: 'tracking.intl.miui.com' },
      origBytes: 12000,
      respBytes: 300,
    }),
    flow(4, {
      resp: { addr: '10.0.0.4', port: 443 },
      names: [{ name: HOSTILE_NAME, source: 'sni' }],
      tls: { sni: HOSTILE_NAME, alpn: [], ech: false },
    }),
    flow(5, { proto: 'icmp', resp: { addr: '198.51.100.9', port: 0 }, origBytes: 64, respBytes: 64 }),
    flow(6, {
      resp: { addr: '10.0.0.2', port: 443 },
      names: [{ name: 'resolver.msg.global.xiaomi.net', source: 'sni' }],
      origBytes: 1000,
      respBytes: 1000,
      connState: 'RSTO',
    }),
    flow(7, { resp: { addr: '10.0.0.5', port: 443 }, names: [{ name: '=cmd|calc!A1', source: 'sni' }] }),
  ];
  return {
    formatVersion: 2,
    capture: { format: 'pcap', frames: 120, bytes: 123456, linkTypes: [1] },
    flows,
    dns: [
      {
        ts: T0 + 1,
        client: '192.168.1.10',
        server: '192.168.1.1',
        uid: 'C1',
        query: 'resolver.msg.global.xiaomi.net',
        type: 'A',
        rcode: 0,
        answers: ['A 10.0.0.2'],
      },
      {
        ts: T0 + 1.1,
        client: '192.168.1.10',
        server: '192.168.1.1',
        uid: 'C1',
        query: 'sdkconfig.ad.intl.xiaomi.com',
        type: 'A',
        rcode: 3,
        answers: [],
      },
    ],
    device: { addrs: ['192.168.1.10'], inferred: true },
    skipped: [{ reason: 'ip-version-0', count: 2, firstFrame: 17 }],
    warnings: ['frame 40: TCP payload after FIN'],
  };
}
