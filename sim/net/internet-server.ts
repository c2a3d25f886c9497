/**
 * The simulated internet: a child process run inside the lab's internet namespace
 * (`ip netns exec NS node internet-server.js CERT KEY`). It answers DNS for every name (UDP and TCP 53),
 * accepts TLS with any server name on 443 (HTTP/2 or HTTP/1.1 by ALPN), plain HTTP on 80, and swallows QUIC on UDP 443.
 * Each reply to HTTP(S) carries as many bytes as the client's `x-sim-down` header asks for.
 * Prints one JSON line `{"ready":true}` when every server listens.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createTcpServer, type Server } from 'node:net';
import { errorMessage } from '../errors.js';
import { labDnsResponse } from './lab-dns.js';

const MAX_DOWN = 1024 * 1024;

function reply(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const asked = Number(req.headers['x-sim-down'] ?? 64);
    const n = Number.isFinite(asked) ? Math.max(0, Math.min(MAX_DOWN, Math.floor(asked))) : 64;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    res.end(Buffer.alloc(n, 0x2e));
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
}

function listenTls(server: ReturnType<typeof createSecureServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
}

async function main(): Promise<void> {
  const [certFile, keyFile] = process.argv.slice(2);
  if (!certFile || !keyFile) throw new Error('usage: internet-server CERT KEY');

  const dnsUdp = createSocket('udp4');
  dnsUdp.on('message', (msg, rinfo) => {
    const res = labDnsResponse(msg);
    if (res) dnsUdp.send(res, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    dnsUdp.once('error', reject);
    dnsUdp.bind(53, '0.0.0.0', () => resolve());
  });

  const dnsTcp = createTcpServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const res = labDnsResponse(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        if (res) {
          const framed = Buffer.alloc(2 + res.length);
          framed.writeUInt16BE(res.length, 0);
          res.copy(framed, 2);
          sock.write(framed);
        }
      }
    });
  });
  await listen(dnsTcp, 53);

  // HTTP/2 and HTTP/1.1 on one TLS port, chosen by ALPN, as the real hosts serve them.
  const https = createSecureServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile), allowHTTP1: true },
    reply,
  );
  https.on('tlsClientError', () => undefined);
  await listenTls(https, 443);
  await listen(createHttpServer(reply), 80);

  // QUIC: receive Initials and drop them; the lab only needs them on the wire.
  const quic = createSocket('udp4');
  quic.on('message', () => undefined);
  await new Promise<void>((resolve, reject) => {
    quic.once('error', reject);
    quic.bind(443, '0.0.0.0', () => resolve());
  });

  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  // The parent going away (stdin closed) ends the internet.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`internet-server: ${errorMessage(err)}\n`);
  process.exit(1);
});
