/**
 * Live Chromium: what Debian's Chromium sends first, over TLS/TCP and over QUIC, to silent
 * recorders on 127.0.0.1, must name the host it was told to visit. The unit tests run on the
 * committed recordings (fixtures/names/); this keeps them honest against the Chromium installed.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksLikeQuicInitial, QUIC_V1, QuicInitialReader } from '../harness/names/quic-initial.js';
import { readTlsClientHello } from '../harness/names/tls-client-hello.js';
import { chromiumQuicDatagrams, chromiumTlsFirstBytes } from '../testing/chromium-first-flight.js';
import { haveCommand } from '../testing/names-test-data.js';
import { CHROMIUM } from '../testing/tools.js';

const skip = !haveCommand(CHROMIUM) && `${CHROMIUM} not installed`;

test('Chromium over QUIC: the SNI comes out of its Initial packets', { skip, timeout: 60_000 }, async () => {
  const host = `quic-${process.pid}.phonehome.test`;
  const datagrams = await chromiumQuicDatagrams({ host, timeoutMs: 30_000 });
  assert.ok(datagrams.length > 0, 'Chromium sent QUIC datagrams');
  assert.ok(looksLikeQuicInitial(datagrams[0]!));
  const r = new QuicInitialReader();
  for (const d of datagrams) r.push(d);
  assert.equal(r.version, QUIC_V1);
  const info = r.result();
  assert.equal(info?.sni, host);
  assert.deepEqual(info?.alpn, ['h3']);
  assert.equal(info?.tlsVersion, 0x0304);
});

test('Chromium over TLS/TCP: the SNI comes out of its ClientHello', { skip, timeout: 60_000 }, async () => {
  const host = `tls-${process.pid}.phonehome.test`;
  const bytes = await chromiumTlsFirstBytes({ host, timeoutMs: 30_000 });
  const r = readTlsClientHello(bytes);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.info.sni, host);
  assert.deepEqual(r.info.alpn, ['h2', 'http/1.1']);
  assert.equal(r.info.tlsVersion, 0x0304);
});
