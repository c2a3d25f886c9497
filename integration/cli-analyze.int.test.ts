/**
 * `phonehome analyze` as a user runs it: the compiled CLI on PCAPdroid's real captures, a truncated
 * copy, a file that is not a capture, bad allowlists, stdin, --out, and a hostile HTTP request captured
 * by a real tcpdump on loopback. tshark is the oracle for what the captures hold.
 * Run from the project root (as `make test` does) after `tsc`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { pcapFile } from '../testing/capture-writer.js';
import { ipv4Packet, pcapdroidFrame, tcpSegment } from '../testing/packet-builder.js';

/** The command people run (bin/phonehome: node with phonehome's flags, then the CLI). */
const LAUNCHER = resolve('bin/phonehome');
const CAPTURES = resolve('../shared/captures/pcapdroid');
const METADATA = join(CAPTURES, 'metadata.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'phonehome-cli-analyze-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function phonehome(args: string[], input?: Buffer): Run {
  const r = spawnSync(LAUNCHER, args, {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** tshark's output; `cutShort` accepts its complaint (and exit 2) about a truncated file. */
function tshark(args: string[], cutShort = false): string {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (cutShort) assert.match(r.stderr, /cut short in the middle of a packet/);
  else assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** Allows everything metadata.pcap's client contacts. */
const ALLOW_ALL = write(
  'allow-all.yaml',
  `description: everything metadata.pcap contacts
allow:
  - {host: "*.google.com", reason: search}
  - {host: google.it, reason: search}
  - {host: "*.google.it", reason: search}
  - {host: www.internetbadguys.com, reason: "phishing test page, on purpose"}
  - {host: example.org, reason: docs}
  - {ip: 149.202.95.241, port: 80, reason: the HTTP test server}
  - {ip: 8.8.8.8, port: 53, reason: resolver}
  - {ip: 1.1.1.1, proto: icmp, reason: ping test}
expect:
  - {host: example.org, port: 443, reason: the TLS test}
unattributed: allow
`,
);

/** The same, plus a forbid and an expectation nothing meets. */
const FORBID = write(
  'forbid.yaml',
  `extends: allow-all.yaml
forbid:
  - {host: www.internetbadguys.com, reason: OpenDNS phishing test domain, severity: blocker}
expect:
  - {host: connectivitycheck.gstatic.com, reason: captive portal check on every network join}
`,
);

function noCrash(r: Run, what: string): void {
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${what}: ${r.stderr}`);
}

test('every shared capture goes through without a crash; the file that is not one exits 2', () => {
  for (const name of readdirSync(CAPTURES).sort()) {
    const file = join(CAPTURES, name);
    for (const format of ['table', 'json', 'csv']) {
      const r = phonehome(['analyze', file, '--format', format, '--allowlist', ALLOW_ALL]);
      noCrash(r, `${name} ${format}`);
      if (name.endsWith('.md')) {
        assert.equal(r.status, 2, name);
        continue;
      }
      assert.ok(r.status === 0 || r.status === 1, `${name} ${format}: exit ${r.status}: ${r.stderr}`);
      if (format === 'json') assert.equal(JSON.parse(r.stdout).formatVersion, 2);
    }
  }
});

test('exit 0 when the allowlist allows everything, 1 with a forbidden name or an unmet expectation', () => {
  const ok = phonehome(['analyze', METADATA, '--allowlist', ALLOW_ALL]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /\nverdict: allowed by .*allow-all\.yaml\n/);
  assert.equal(ok.stderr, '');

  const bad = phonehome(['analyze', METADATA, '--allowlist', FORBID]);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stdout,
    /✗ www\.internetbadguys\.com \(http-host\) is forbidden \[blocker\]: forbid www\.internetbadguys\.com \(OpenDNS phishing test domain\) from forbid\.yaml:3/,
  );
  assert.match(bad.stdout, /evidence: GET \/ HTTP\/1\.1 Host: www\.internetbadguys\.com/);
  assert.match(bad.stdout, /never seen: expect connectivitycheck\.gstatic\.com/);

  const onlyExpect = write(
    'expect.yaml',
    'extends: allow-all.yaml\nexpect:\n  - {host: connectivitycheck.gstatic.com, reason: r}\n',
  );
  assert.equal(
    phonehome(['analyze', METADATA, '--allowlist', onlyExpect]).status,
    1,
    'an unmet expectation alone fails',
  );
  assert.equal(phonehome(['analyze', METADATA]).status, 0, 'no allowlist: exit 0');
});

test('the JSON document has the documented fields, and its names agree with tshark', () => {
  const r = phonehome(['analyze', METADATA, '--format', 'json', '--allowlist', FORBID]);
  assert.equal(r.status, 1);
  const d = JSON.parse(r.stdout);
  assert.equal(d.formatVersion, 2);
  assert.equal(d.capture.file, METADATA);
  assert.equal(d.capture.format, 'pcap');
  assert.equal(
    d.capture.frames,
    Number(tshark(['-r', METADATA, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length),
  );
  assert.deepEqual(d.device, { addrs: ['192.168.1.10', '2001:db8:1234::1'], inferred: true });
  for (const f of d.flows) {
    for (const k of [
      'uid',
      'proto',
      'orig',
      'resp',
      'tsStart',
      'tsEnd',
      'origBytes',
      'respBytes',
      'origPkts',
      'respPkts',
      'service',
      'names',
    ]) {
      assert.ok(k in f, `flow ${f.uid} lacks ${k}`);
    }
    assert.equal(typeof f.orig.addr, 'string');
    assert.equal(typeof f.resp.port, 'number');
  }
  const sni = new Set(
    tshark([
      '-r',
      METADATA,
      '-Y',
      'tls.handshake.type == 1',
      '-T',
      'fields',
      '-e',
      'tls.handshake.extensions_server_name',
    ])
      .split('\n')
      .filter(Boolean),
  );
  const ours = new Set(
    d.flows.flatMap((f: { names: { name: string; source: string }[] }) =>
      f.names.filter((n) => n.source === 'sni').map((n) => n.name),
    ),
  );
  assert.deepEqual([...ours].sort(), [...sni].sort());
  const hosts = new Set(
    tshark(['-r', METADATA, '-Y', 'http.request', '-T', 'fields', '-e', 'http.host'])
      .split('\n')
      .filter(Boolean),
  );
  const ourHosts = new Set(
    d.flows.flatMap((f: { http?: { host?: string } }) => (f.http?.host ? [f.http.host] : [])),
  );
  assert.deepEqual([...ourHosts].sort(), [...hosts].sort());
  assert.ok(d.dns.length > 0);
  for (const k of ['ts', 'uid', 'client', 'server', 'query', 'type', 'rcode', 'answers'])
    assert.ok(k in d.dns[0], k);
  const v = d.verdict;
  assert.equal(v.outcome, 'violations');
  assert.equal(v.judgements.length, d.flows.length);
  const forbidden = v.violations.filter((x: { rule: { kind: string } | null }) => x.rule?.kind === 'forbid');
  assert.ok(forbidden.length >= 1);
  assert.deepEqual(
    { file: forbidden[0].rule.file, line: forbidden[0].rule.line, column: forbidden[0].rule.column },
    { file: FORBID, line: 3, column: 5 },
  );
  assert.equal(v.unmetExpectations.length, 1);
});

test('a truncated capture is analysed up to the cut, warned about with its byte offset, and judged', () => {
  const whole = readFileSync(METADATA);
  const cut = join(tmp, 'truncated.pcap');
  writeFileSync(cut, whole.subarray(0, 30_011));
  const r = phonehome(['analyze', cut, '--format', 'json', '--allowlist', ALLOW_ALL]);
  const warning =
    /^phonehome: warning: .*truncated\.pcap is truncated at byte (\d+) \(.*\); analysed the (\d+) frames before it\n$/.exec(
      r.stderr,
    );
  assert.ok(warning, r.stderr);
  const offset = Number(warning[1]);
  assert.ok(offset > 24 && offset <= 30_011, `offset ${offset}`);
  // tshark, reading the same cut file, sees the same whole frames.
  const frames = tshark(['-r', cut, '-T', 'fields', '-e', 'frame.number'], true).trim().split('\n').length;
  assert.equal(Number(warning[2]), frames);
  const d = JSON.parse(r.stdout);
  assert.equal(d.capture.truncated.offset, offset);
  assert.equal(d.capture.frames, frames);
  // The expectation (example.org) comes after the cut, so the verdict says so.
  assert.equal(r.status, 1);
  assert.equal(d.verdict.unmetExpectations.length, 1);
});

test('a corrupt record keeps what came before it: analysed up to it, warned about with its offset', () => {
  const original = readFileSync(join(CAPTURES, 'http_proxy.pcap'));
  // The last record header's captured length set to 0x7fffffff, as a broken writer might leave it.
  const offsets: number[] = [];
  for (let o = 24; o + 16 <= original.length; o += 16 + original.readUInt32LE(o + 8)) offsets.push(o);
  const last = offsets.at(-1)!;
  const corrupt = Buffer.from(original);
  corrupt.writeUInt32LE(0x7fffffff, last + 8);
  const file = join(tmp, 'http_proxy-corrupt.pcap');
  writeFileSync(file, corrupt);
  const r = phonehome(['analyze', file, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `http_proxy-corrupt\\.pcap is corrupt at byte ${last} \\(pcap record claims 2147483647 captured bytes .*\\); analysed the ${offsets.length - 1} frames before it`,
    ),
  );
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.capture.frames, offsets.length - 1);
  assert.deepEqual(doc.capture.truncated, {
    offset: last,
    message: 'pcap record claims 2147483647 captured bytes (more than 16777216): the file is corrupt',
    corrupt: true,
  });
  assert.ok(doc.flows.length > 0, 'the flows before it are there');
  // One lost packet loses at most its own flow: the rest are those of the whole file.
  const whole = JSON.parse(
    phonehome(['analyze', join(CAPTURES, 'http_proxy.pcap'), '--format', 'json']).stdout,
  );
  assert.equal(whole.capture.frames, offsets.length);
  assert.ok(doc.flows.length >= whole.flows.length - 1, `${doc.flows.length} of ${whole.flows.length} flows`);
});

test('a file that is not a capture: one line naming it, exit 2', () => {
  const notPcap = write('notes.txt', 'these are not packets\n');
  const r = phonehome(['analyze', notPcap]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^phonehome: .*notes\.txt is not a pcap or pcapng capture \(.+\)\n$/);
  const empty = write('empty.pcap', '');
  const e = phonehome(['analyze', empty]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /^phonehome: .*empty\.pcap is not a pcap or pcapng capture \(.+\)\n$/);
  const missing = phonehome(['analyze', join(tmp, 'nope.pcap')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^phonehome: cannot read .*nope\.pcap: no such file or directory\n$/);
  const dir = phonehome(['analyze', tmp]);
  assert.equal(dir.status, 2);
  assert.match(dir.stderr, /^phonehome: cannot read .*: is a directory\n$/);
});

test('fails closed: a capture with no packet, or none that decodes, is never allowed (exit 2, one line)', () => {
  const strict = write('strict.yaml', 'description: nothing allowed\nunattributed: fail\nallow: []\n');
  const headerOnly = join(tmp, 'header-only.pcap');
  writeFileSync(headerOnly, pcapFile({ linkType: 1 }, []));
  const userLink = join(tmp, 'user-link-147.pcap');
  const ip = ipv4Packet(
    { src: '10.0.0.2', dst: '10.0.0.1', proto: 6 },
    tcpSegment({ srcPort: 40000, dstPort: 443, flags: 0x02 }),
  );
  writeFileSync(
    userLink,
    pcapFile({ linkType: 147 }, [
      { ts: 1, data: ip },
      { ts: 2, data: ip },
    ]),
  );
  for (const [file, why] of [
    [headerOnly, /header-only\.pcap: nothing to judge: the capture holds no packet \(pcap, 24 bytes\)/],
    [
      userLink,
      /user-link-147\.pcap: nothing to judge: none of its 2 frames could be decoded into a connection \(link type 147; skipped: unknown-linktype-147 ×2\)/,
    ],
  ] as const) {
    for (const args of [[file], [file, '--allowlist', strict], [file, '--format', 'json']]) {
      const r = phonehome(['analyze', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', 'no verdict, no document');
      assert.match(r.stderr, why);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
    }
  }
});

test('a bad allowlist: one line with file:line:column, exit 2, before the capture is read', () => {
  const bad = write(
    'bad.yaml',
    'allow:\n  - host: ok.example\n    reason: fine\n  - cidr: 10.0.0.0/33\n    reason: lab\n',
  );
  const r = phonehome(['analyze', join(tmp, 'nope.pcap'), '--allowlist', bad]);
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    `phonehome: ${bad}:4:11: allow[1].cidr: "10.0.0.0/33" is not a CIDR (prefix length must be 0–32)\n`,
  );
  const cycle = write('cycle.yaml', 'extends: cycle.yaml\n');
  const c = phonehome(['analyze', METADATA, '--allowlist', cycle]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /^phonehome: .*cycle\.yaml:1:10: extends\[0\]: "cycle\.yaml" makes a cycle: .*\n$/);
  const missing = phonehome(['analyze', METADATA, '--allowlist', join(tmp, 'none.yaml')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^phonehome: .*none\.yaml: cannot read the allowlist: no such file\n$/);
});

test('usage errors: one line, exit 2', () => {
  for (const args of [
    ['analyze'],
    ['analyze', METADATA, '--format', 'xml'],
    ['bogus'],
    ['analyze', METADATA, '--device', 'phone'],
    ['analyze', METADATA, METADATA],
  ]) {
    const r = phonehome(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^phonehome: /);
  }
});

test('- reads stdin; --device overrides the inferred phone; --out writes the file and nothing else', () => {
  const fromFile = JSON.parse(phonehome(['analyze', METADATA, '--format', 'json']).stdout);
  const r = phonehome(['analyze', '-', '--format', 'json'], readFileSync(METADATA));
  assert.equal(r.status, 0, r.stderr);
  const fromStdin = JSON.parse(r.stdout);
  assert.equal(fromStdin.capture.file, '-');
  assert.deepEqual(fromStdin.flows, fromFile.flows);

  const given = JSON.parse(
    phonehome(['analyze', '--device', '192.168.1.10', METADATA, '--format', 'json']).stdout,
  );
  assert.deepEqual(given.device, { addrs: ['192.168.1.10'], inferred: false });
  const two = phonehome([
    'analyze',
    METADATA,
    '--device',
    '192.168.1.10,2001:db8:1234::1',
    '--device',
    '10.9.9.9',
  ]);
  assert.match(
    two.stdout,
    /\ndevice 192\.168\.1\.10, 2001:db8:1234::1, 10\.9\.9\.9 \(given with --device\)\n/,
  );

  const out = join(tmp, 'out', 'flows.csv');
  const missingDir = phonehome(['analyze', METADATA, '--format', 'csv', '--out', out]);
  assert.equal(missingDir.status, 2);
  // CSV has no place for warnings (the location sources' disagreement): they come first on stderr.
  assert.match(
    missingDir.stderr,
    /^(?:phonehome: warning: [^\n]*\n)*phonehome: cannot write .*flows\.csv: no such file or directory\n$/,
  );
  const csvOut = join(tmp, 'flows.csv');
  const w = phonehome(['analyze', METADATA, '--format', 'csv', '--out', csvOut, '--allowlist', FORBID]);
  assert.equal(w.status, 1);
  assert.equal(w.stdout, '');
  const csv = readFileSync(csvOut, 'utf8');
  const lines = csv.split('\r\n');
  assert.match(lines[0]!, /^uid,proto,orig_addr,orig_port,resp_addr,resp_port,/);
  assert.equal(lines.length, fromFile.flows.length + 2, 'header, one line per flow, final CRLF');
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left behind',
  );
});

test('hostile bytes from the wire never reach the terminal as control characters', async () => {
  // A real TLS ClientHello (Node's) whose ALPN carries escape sequences and a bidi override,
  // captured by tcpdump on loopback; and a PCAPdroid app name carrying an escape sequence.
  const pcap = join(tmp, 'hostile.pcap');
  const server = createServer((s) => s.on('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  const port = (server.address() as { port: number }).port;
  let dump: ChildProcess | undefined;
  try {
    dump = spawn(
      'tcpdump',
      ['-i', 'lo', '-U', '--immediate-mode', '-n', '-w', pcap, 'tcp', 'port', String(port)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    await new Promise<void>((ok, fail) => {
      let err = '';
      dump!.stderr!.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('listening on')) ok();
      });
      dump!.on('exit', (code) => fail(new Error(`tcpdump exited ${code}: ${err}`)));
    });
    await new Promise<void>((ok) => {
      // Two loopback addresses, so that the phone (127.0.0.1) and the server are told apart. The
      // server is not TLS: it hangs up once the ClientHello arrives, which is all the capture needs.
      const socket = connectTcp({ host: '127.0.0.2', port, localAddress: '127.0.0.1' });
      const c = connectTls({
        socket,
        servername: 'hostile.example',
        ALPNProtocols: ['\x1b[2J\x1b]0;owned\x07\u202eh2'],
      });
      c.on('error', () => undefined);
      socket.on('close', () => ok());
    });
    // Wait (bounded) until tcpdump has written the request, then stop it.
    const deadline = Date.now() + 10_000;
    while (!readFileSync(pcap).includes('hostile.example') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise((r) => dump!.once('exit', r));
    dump.kill('SIGINT');
    await exited;
  } finally {
    if (dump && dump.exitCode === null) dump.kill('SIGKILL');
    server.close();
  }
  const r = phonehome(['analyze', pcap, '--allowlist', ALLOW_ALL, '--device', '127.0.0.1']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /hostile\.example/);
  assert.match(
    r.stdout,
    /evidence: TLS ClientHello SNI hostile\.example ALPN \\x1b\[2J\\x1b\]0;owned\\x07â\\x80®h2/,
  );
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);

  const ip = ipv4Packet(
    { src: '192.168.1.10', dst: '10.0.0.9', proto: 6 },
    tcpSegment({ srcPort: 40000, dstPort: 443, flags: 0x02 }),
  );
  const app = join(tmp, 'app.pcap');
  writeFileSync(
    app,
    pcapFile({ linkType: 1 }, [{ ts: 1_700_000_000, data: pcapdroidFrame(ip, 10077, '\x1b[31mred\u202e') }]),
  );
  const t = phonehome(['analyze', app]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /APP/);
  assert.doesNotMatch(t.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
});

test('--capture-complete judges an unnamed connection with no SYN by openBeforeCapture, as a run does', () => {
  const phone = '192.168.1.10';
  const server = '198.51.100.4';
  const seg = (src: string, dst: string, sp: number, dp: number, flags: number) =>
    ipv4Packet(
      { src, dst, proto: 6 },
      tcpSegment({ srcPort: sp, dstPort: dp, flags, seq: 7 }, new Uint8Array(1)),
    );
  const pcap = join(tmp, 'open-before.pcap');
  writeFileSync(
    pcap,
    pcapFile({ linkType: 101 }, [
      // A push channel's keepalive and its answer: no SYN, so no handshake and no name.
      { ts: 1_700_000_000, data: seg(phone, server, 41000, 5228, 0x18) },
      { ts: 1_700_000_000.05, data: seg(server, phone, 5228, 41000, 0x10) },
    ]),
  );
  const list = write('open-before.yaml', 'unattributed: fail\n');
  const strict = phonehome(['analyze', pcap, '--allowlist', list, '--format', 'json']);
  assert.equal(strict.status, 1, strict.stderr);
  const [flow] = JSON.parse(strict.stdout).flows;
  assert.equal(flow.midstream, true);
  const complete = phonehome([
    'analyze',
    pcap,
    '--allowlist',
    list,
    '--format',
    'json',
    '--capture-complete',
  ]);
  assert.equal(complete.status, 0, complete.stderr);
  const verdict = JSON.parse(complete.stdout).verdict;
  assert.equal(verdict.judgements[0].ruleText, 'open before the capture began: warn');
  assert.match(
    verdict.warnings[0],
    /^198\.51\.100\.4 \(tcp\/5228, 1 flow\) was already open when the capture began/,
  );
  const failing = write('open-before-fail.yaml', 'openBeforeCapture: fail\n');
  assert.equal(phonehome(['analyze', pcap, '--allowlist', failing, '--capture-complete']).status, 1);
});

// Start-up time is a benchmark figure (BENCHMARKS.md), not a timed test: a busy machine would make it flaky.
test('--help lists the commands', () => {
  const r = phonehome(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /analyze \[options\] <capture>/);
  assert.match(r.stdout, /devices \[options\]/);
});

test('--identifiers: leaks named with masked values, in the table and the JSON; no raw value printed; bad files named', () => {
  const phone = '10.9.8.7';
  const imei = '490154203237518';
  const aid = '9774d56d682e549c';
  const req = Buffer.from(
    `GET /collect?dev=${imei}&n=1 HTTP/1.1\r\nHost: t.example.test\r\nX-Id: ${Buffer.from(aid).toString('base64')}\r\n\r\n`,
  );
  const pkt = (src: string, dst: string, seg: Uint8Array) => ipv4Packet({ src, dst, proto: 6 }, seg);
  const cap = join(tmp, 'leak.pcap');
  writeFileSync(
    cap,
    pcapFile({ linkType: 101 }, [
      {
        ts: 1,
        data: pkt(phone, '192.0.2.80', tcpSegment({ srcPort: 45000, dstPort: 80, seq: 9, flags: 0x02 })),
      },
      {
        ts: 1.01,
        data: pkt(
          '192.0.2.80',
          phone,
          tcpSegment({ srcPort: 80, dstPort: 45000, seq: 70, ack: 10, flags: 0x12 }),
        ),
      },
      {
        ts: 1.02,
        data: pkt(
          phone,
          '192.0.2.80',
          tcpSegment({ srcPort: 45000, dstPort: 80, seq: 10, flags: 0x18 }, req),
        ),
      },
    ]),
  );
  const ids = write('ids.yaml', `imei: "${imei}"\nandroid-id: ${aid}\n`);
  const env = { ...process.env, PHONEHOME_ID_KEY: 'cli-test-key' };
  const run = (args: string[]) => {
    const r = spawnSync(LAUNCHER, args, { encoding: 'utf8', timeout: 60_000, env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const table = run(['analyze', cap, '--identifiers', ids]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^Identifier leaks \(2\)$/m);
  assert.match(table.stdout, /imei \(slot 0\) 490…518 +t\.example\.test +URL query dev +plain /);
  assert.match(table.stdout, /android-id 9774…549c +t\.example\.test +header X-Id +base64\(plain\) /);
  const json = run(['analyze', cap, '--identifiers', ids, '--format', 'json']);
  assert.equal(json.status, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.deepEqual(
    doc.identifiers.leaks.map((l: { kind: string; place: string }) => [l.kind, l.place]),
    [
      ['imei', 'URL query dev'],
      ['android-id', 'header X-Id'],
    ],
  );
  for (const out of [table.stdout, json.stdout]) {
    assert.ok(!out.includes(imei) && !out.includes(aid), 'no raw identifier in the output');
  }
  // The fingerprint is keyed: the same key gives the same one, so two runs compare.
  const again = JSON.parse(run(['analyze', cap, '--identifiers', ids, '--format', 'json']).stdout);
  assert.equal(again.identifiers.sought[0].fingerprint, doc.identifiers.sought[0].fingerprint);

  const bad = write('bad-ids.yaml', 'imei: "490154203237519"\nwifi-mac: nope\n');
  const r = run(['analyze', cap, '--identifiers', bad]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /bad-ids\.yaml:1:7: imei: not an IMEI: expected 15 digits ending in their check digit/,
  );
  const unquoted = write('num-ids.yaml', 'imsi: 234150123456789\n');
  assert.match(
    run(['analyze', cap, '--identifiers', unquoted]).stderr,
    /num-ids\.yaml:1:7: imsi: expected the value as text \(quote it\)/,
  );
});

test('every public IPv4 endpoint of metadata.pcap gets a country and an AS organisation, in the table and in JSON', () => {
  // The responders, from tshark: every destination of a packet the phone sent.
  const phone = new Set(['192.168.1.10', '2001:db8:1234::1']);
  const dsts = new Set(
    tshark(['-r', METADATA, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst'])
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([src, dst]) => src && dst && phone.has(src))
      .map(([, dst]) => dst!),
  );
  assert.ok(dsts.size >= 6, `tshark found ${[...dsts].join(', ')}`);
  const r = phonehome(['analyze', METADATA, '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  const byAddr = new Map<string, { country?: string; org?: string; asn?: number; disagree?: boolean }>();
  for (const f of d.flows) byAddr.set(f.resp.addr, f.resp.geo);
  for (const addr of dsts) {
    const g = byAddr.get(addr);
    assert.ok(g, `${addr} has resp.geo`);
    assert.match(g.country ?? '', /^[A-Z]{2}$/, `${addr} country`);
    assert.ok((g.org ?? '').length > 0, `${addr} organisation`);
  }
  assert.equal(byAddr.get('8.8.8.8')?.country, 'US');
  assert.equal(byAddr.get('8.8.8.8')?.asn, 15169);
  assert.equal(byAddr.get('149.202.95.241')?.country, 'FR');
  assert.match(byAddr.get('149.202.95.241')?.org ?? '', /OVH/);
  assert.equal(byAddr.get('1.1.1.1')?.disagree, true);
  // The databases, with the attributions their licences require.
  assert.deepEqual(
    d.geo.databases.map((x: { name: string }) => x.name),
    ['geo-whois-asn-country', 'iptoasn-country', 'dbip-city', 'asn'],
  );
  assert.match(JSON.stringify(d.geo.databases), /IP Geolocation by DB-IP/);

  const table = phonehome(['analyze', METADATA]).stdout;
  const header = table.split('\n').find((l) => l.startsWith('NAME'))!;
  assert.match(header, /COUNTRY\s+AS ORG/);
  const row = (name: string) => table.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('8.8.8.8'), /\sUS\s+Google LLC$/);
  assert.match(row('149.202.95.241'), /\sFR\s+OVH SAS$/);
  assert.match(row('1.1.1.1'), /\sAU≠US!\s+Cloudflare, Inc\.$/);
  assert.match(table, /IP Geolocation by DB-IP/);

  // --no-geo: no lookups, no columns.
  const off = phonehome(['analyze', METADATA, '--no-geo']).stdout;
  assert.doesNotMatch(off.split('\n').find((l) => l.startsWith('NAME'))!, /COUNTRY/);
});

test('a forbid country rule judges metadata.pcap; an override file wins and is named; a bad one exits 2 with its line', () => {
  const cn = write(
    'no-us.yaml',
    'extends: allow-all.yaml\nforbid:\n  - {country: US, reason: nothing to the US in this test}\n',
  );
  const r = phonehome(['analyze', METADATA, '--allowlist', cn, '--format', 'json']);
  assert.equal(r.status, 1, r.stderr);
  const d = JSON.parse(r.stdout);
  const forbidden = d.verdict.violations.filter(
    (v: { rule: { match: string } | null }) => v.rule?.match === 'in US',
  );
  assert.ok(forbidden.length > 0);
  const over = write(
    'lab.yaml',
    'overrides:\n  - {cidr: 8.8.8.0/24, country: DE, org: Lab resolver, note: the lab answers for 8.8.8.8}\n',
  );
  const o = phonehome(['analyze', METADATA, '--format', 'json', '--geo-overrides', over]);
  const g = JSON.parse(o.stdout).flows.find((f: { resp: { addr: string } }) => f.resp.addr === '8.8.8.8').resp
    .geo;
  assert.equal(g.country, 'DE');
  assert.equal(g.org, 'Lab resolver');
  assert.equal(g.override.note, 'the lab answers for 8.8.8.8');
  const bad = write('bad-over.yaml', 'overrides:\n  - {cidr: 8.8.8.0/24, country: Germany, note: x}\n');
  const b = phonehome(['analyze', METADATA, '--geo-overrides', bad]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /bad-over\.yaml:2:\d+: overrides\[0\]\.country: a two-letter/);
  assert.equal(b.stdout, '');
});

test("--profile names the phone's maker: its hosts are first party; an unknown profile exits 2", () => {
  const r = phonehome(['analyze', METADATA, '--format', 'json', '--profile', 'pixel-stock']);
  assert.equal(r.status, 0, r.stderr);
  const flows = JSON.parse(r.stdout).flows as {
    names: { name: string; source: string }[];
    resp: { geo: { party: string; partyWhy: string } };
  }[];
  // The HTTP connection to www.google.com (not the DNS question about it).
  const google = flows.find((f) =>
    f.names.some((n) => n.name === 'www.google.com' && n.source === 'http-host'),
  );
  assert.equal(google?.resp.geo.party, 'first');
  assert.match(google!.resp.geo.partyWhy, /www\.google\.com is under google\.com, Google's domain/);
  const plain = JSON.parse(phonehome(['analyze', METADATA, '--format', 'json']).stdout).flows as typeof flows;
  assert.ok(!plain.some((f) => f.resp.geo.party === 'first'), 'without a profile nothing is first party');
  const bad = phonehome(['analyze', METADATA, '--profile', 'nokia-3310']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^phonehome: --profile: no device profile named "nokia-3310"\n$/);
});
