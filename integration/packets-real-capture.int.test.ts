/**
 * The packet layer on traffic captured for real: a local TCP exchange made by Node on loopback,
 * recorded by tcpdump (pcap, micro- and nanosecond; Linux cooked SLL and SLL2 on "any") and by
 * tshark (pcapng), then IP fragments made by the kernel in a network namespace whose loopback MTU
 * is small. Every frame is checked against tshark's reading of the same file.
 * Needs root, tcpdump, tshark and ip; skips with a message otherwise.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { readCaptureFile } from '../harness/packets/capture-file.js';
import type { CaptureSummary } from '../harness/packets/capture-summary.js';
import { type Packet, TCP_FIN, TCP_SYN } from '../harness/packets/packet.js';
import { PacketDecoder } from '../harness/packets/packet-decoder.js';
import { gate } from '../testing/gate.js';
import { tsharkFields } from '../testing/tshark-fields.js';

const has = (cmd: string, arg = '--version') => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const why = (() => {
  if (process.getuid?.() !== 0) return 'needs root to capture on loopback';
  for (const tool of ['tcpdump', 'tshark']) if (!has(tool)) return `${tool} is not installed`;
  if (!has('ip', '-V')) return 'iproute2 (ip) is not installed';
  return false;
})();

const dir = mkdtempSync(join(tmpdir(), 'phonehome-pk-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A capture tool running until stop(). */
interface RunningCapture {
  stop(): Promise<void>;
}

/** Starts a capture command and waits (at most 15 s) until its stderr says it listens. */
async function startCapture(cmd: string, args: string[], ready: RegExp): Promise<RunningCapture> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not start listening within 15 s: ${stderr}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A TCP exchange over loopback: the client sends a greeting, the server answers with 3000 bytes and
 * both close. The server listens first so that the capture can filter on its port.
 */
async function withTcpServer(
  host: string,
  during: (port: number, exchange: () => Promise<void>) => Promise<void>,
) {
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end(Buffer.alloc(3000, 0x61)));
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const exchange = () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('exchange took over 10 s')), 10_000);
      const c = net.connect(port, host, () => c.write('hello phonehome'));
      c.on('data', () => {});
      c.on('end', () => c.end());
      c.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      c.on('error', reject);
    });
  try {
    await during(port, exchange);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/**
 * Polls the growing capture file (every 100 ms, at most `ms`) until `done` holds for its packets, so
 * that the capture is stopped only once the tool has written what the test needs.
 */
async function waitForPackets(
  file: string,
  done: (packets: Packet[]) => boolean,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const { packets } = await decodeFile(file);
      if (done(packets.filter((p): p is Packet => p !== undefined))) return;
    } catch {
      // Not even a file header yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Both sides' FINs are in the capture. */
const bothFins = (port: number) => (packets: Packet[]) =>
  packets.some((p) => p.srcPort === port && (p.tcp!.flags & TCP_FIN) !== 0) &&
  packets.some((p) => p.dstPort === port && (p.tcp!.flags & TCP_FIN) !== 0);

interface Decoded {
  summary: CaptureSummary;
  packets: (Packet | undefined)[];
  times: number[];
  decoder: PacketDecoder;
}

async function decodeFile(path: string): Promise<Decoded> {
  const decoder = new PacketDecoder();
  const packets: (Packet | undefined)[] = [];
  const times: number[] = [];
  const summary = await readCaptureFile(path, (f) => {
    times.push(f.ts);
    const p = decoder.decode(f);
    packets.push(p && { ...p, payload: p.payload.slice() });
  });
  return { summary, packets, times, decoder };
}

const FIELDS = [
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
];

/** Checks every frame of the file against tshark, and that the exchange itself is there. */
async function checkAgainstTshark(
  path: string,
  host: string,
  port: number,
  linkType: number,
): Promise<Decoded> {
  const d = await decodeFile(path);
  const rows = tsharkFields(path, FIELDS);
  assert.equal(d.summary.frames, rows.length, 'frame count');
  assert.deepEqual(d.summary.linkTypes, [linkType]);
  assert.deepEqual(d.decoder.skipped(), []);
  for (const [i, row] of rows.entries()) {
    const p = d.packets[i];
    const where = `${path} frame ${i + 1}`;
    assert.ok(p, `${where} not decoded`);
    assert.ok(Math.abs(d.times[i]! - Number(row['frame.time_epoch'])) < 1e-6, `${where}: time`);
    assert.equal(p.src, row['ip.src'] || row['ipv6.src'], `${where}: src`);
    assert.equal(p.dst, row['ip.dst'] || row['ipv6.dst'], `${where}: dst`);
    assert.equal(p.srcPort, Number(row['tcp.srcport']), `${where}: src port`);
    assert.equal(p.dstPort, Number(row['tcp.dstport']), `${where}: dst port`);
    assert.equal(p.tcp?.seq, Number(row['tcp.seq_raw']), `${where}: seq`);
    assert.equal(p.tcp?.ack, Number(row['tcp.ack_raw']), `${where}: ack`);
    assert.equal(p.tcp?.flags, Number(row['tcp.flags']) & 0xff, `${where}: flags`);
    assert.equal(p.payloadLen, Number(row['tcp.len']), `${where}: payload length`);
  }
  const packets = d.packets as Packet[];
  const syn = packets.find((p) => p.tcp!.flags === TCP_SYN);
  assert.ok(syn, `the SYN was captured; frames: ${d.summary.frames}`);
  assert.deepEqual([syn.src, syn.dst, syn.dstPort], [host, host, port]);
  const hello = packets.find((p) => p.dstPort === port && p.payloadLen > 0);
  assert.equal(Buffer.from(hello!.payload).toString(), 'hello phonehome');
  const answered = packets.filter((p) => p.srcPort === port).reduce((a, p) => a + p.payloadLen, 0);
  assert.equal(
    answered,
    3000,
    `the server sent 3000 bytes; captured: ${packets.map((p) => `${p.srcPort}>${p.dstPort} f=${p.tcp!.flags} len=${p.payloadLen}`).join(', ')}`,
  );
  return d;
}

const group = gate(why);

group.describe('real captures on loopback', () => {
  for (const [name, host, tool, extra, linkType] of [
    ['tcpdump pcap, microseconds, IPv4', '127.0.0.1', 'tcpdump', [], 1],
    ['tcpdump pcap, nanoseconds, IPv6', '::1', 'tcpdump', ['--time-stamp-precision=nano'], 1],
    ['tcpdump on "any" as Linux cooked SLL', '127.0.0.1', 'tcpdump-any', ['-y', 'LINUX_SLL'], 113],
    ['tcpdump on "any" as Linux cooked SLL2, IPv6', '::1', 'tcpdump-any', ['-y', 'LINUX_SLL2'], 276],
    ['tshark pcapng, IPv4', '127.0.0.1', 'tshark', [], 1],
    ['tshark pcapng, IPv6', '::1', 'tshark', [], 1],
  ] as const) {
    group.test(name, async () => {
      const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.${tool === 'tshark' ? 'pcapng' : 'pcap'}`);
      await withTcpServer(host, async (port, exchange) => {
        const filter = `tcp port ${port}`;
        const capture =
          tool === 'tshark'
            ? await startCapture('tshark', ['-i', 'lo', '-w', file, '-f', filter], /Capture started/)
            : await startCapture(
                'tcpdump',
                [
                  '-i',
                  tool === 'tcpdump' ? 'lo' : 'any',
                  '--immediate-mode',
                  '-s',
                  '16384',
                  '-B',
                  '32768',
                  '-U',
                  '-Z',
                  'root',
                  '-w',
                  file,
                  ...extra,
                  filter,
                ],
                /listening on/,
              );
        try {
          await exchange();
          await waitForPackets(file, bothFins(port));
        } finally {
          await capture.stop();
        }
        const d = await checkAgainstTshark(file, host, port, linkType);
        assert.equal(d.summary.format, tool === 'tshark' ? 'pcapng' : 'pcap');
        if ((extra as readonly string[]).includes('--time-stamp-precision=nano')) {
          assert.deepEqual(
            [...readFileSync(file).subarray(0, 4)],
            [0x4d, 0x3c, 0xb2, 0xa1],
            'nanosecond magic',
          );
        }
      });
    });
  }

  group.test('IP fragments made by the kernel are reassembled as tshark does', async () => {
    const ns = `phk-frag-${process.pid}`;
    const file = join(dir, 'fragments.pcap');
    const run = (...args: string[]) => {
      const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    };
    run('netns', 'add', ns);
    try {
      run('-n', ns, 'link', 'set', 'lo', 'mtu', '1300', 'up');
      const capture = await startCapture(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'tcpdump',
          '-i',
          'lo',
          '--immediate-mode',
          '-B',
          '8192',
          '-U',
          '-Z',
          'root',
          '-w',
          file,
          'udp port 47999 or ip[6:2] & 0x1fff != 0 or ip6[6] == 44',
        ],
        /listening on/,
      );
      try {
        // Inside the namespace: 4000- and 2500-byte datagrams over IPv4 and IPv6 loopback (MTU 1300).
        const sender = [
          "const d = require('node:dgram');",
          'const send = (type, host, size) => new Promise((ok) => { const s = d.createSocket(type);',
          '  s.send(Buffer.alloc(size, 0x42), 47999, host, () => { s.close(); ok(); }); });',
          "(async () => { await send('udp4', '127.0.0.1', 4000); await send('udp6', '::1', 4000);",
          "  await send('udp4', '127.0.0.1', 2500); })();",
        ].join('\n');
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', sender], {
          encoding: 'utf8',
          timeout: 15_000,
        });
        assert.equal(r.status, 0, r.stderr);
        await waitForPackets(file, (packets) => packets.length >= 3);
      } finally {
        await capture.stop();
      }
    } finally {
      spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    }
    const d = await decodeFile(file);
    // tshark with reassembly on shows the UDP header on the frame that completed each datagram.
    const rows = tsharkFields(
      file,
      ['frame.number', 'udp.srcport', 'udp.length', 'ip.src', 'ipv6.src'],
      ['-o', 'ip.defragment:TRUE', '-o', 'ipv6.defragment:TRUE'],
    ).filter((r) => r['udp.srcport'] !== '');
    const ours = d.packets.flatMap((p, i) => (p ? [{ frame: i + 1, p }] : []));
    assert.equal(ours.length, 3, 'three datagrams');
    assert.deepEqual(
      ours.map(({ frame, p }) => [frame, p.src, p.srcPort, p.payloadLen + 8]),
      rows.map((r) => [
        Number(r['frame.number']),
        r['ip.src'] || r['ipv6.src'],
        Number(r['udp.srcport']),
        Number(r['udp.length']),
      ]),
    );
    assert.deepEqual(
      ours.map(({ p }) => p.payloadLen),
      [4000, 4000, 2500],
    );
    assert.ok(ours.every(({ p }) => p.payload.every((b) => b === 0x42)));
    assert.equal(d.decoder.stats().fragmentsReassembled, 3);
    assert.equal(d.decoder.stats().fragmentsIncomplete, 0);
    assert.ok(d.summary.frames >= 9, `at least 9 fragments captured, got ${d.summary.frames}`);
  });
});
