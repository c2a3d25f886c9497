import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InterceptError } from '../run/intercept.js';
import { MitmInterceptor, type MitmSettings } from './mitmproxy.js';

const dir = mkdtempSync(join(tmpdir(), 'phonehome-mitm-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A confdir holding a CA as mitmproxy names it (made with openssl: no mitmdump needed here). */
function confdir(): string {
  const d = join(dir, 'conf');
  execFileSync('mkdir', ['-p', d]);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
    ].concat([
      '-subj',
      '/CN=mitmproxy/O=mitmproxy',
      '-keyout',
      join(d, 'key.pem'),
      '-out',
      join(d, 'mitmproxy-ca-cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  return d;
}

const settings = (over: Partial<MitmSettings>): MitmSettings => ({
  confdir: confdir(),
  ignoreHosts: [],
  onFailure: 'broken',
  bodyCap: 1024,
  mitmdump: 'mitmdump',
  installCa: true,
  ...over,
});

describe('mitmproxy interceptor', () => {
  it("names the CA as Android's store does: the old subject hash, .0", async () => {
    const ca = await new MitmInterceptor(settings({}), { lanInterface: 'lo' }).ca();
    // mitmproxy's own CA (CN=mitmproxy, O=mitmproxy) is c8750f0d.0, as the guides say.
    assert.equal(ca.fileName, 'c8750f0d.0');
    assert.match(ca.pem, /^-----BEGIN CERTIFICATE-----/);
  });

  it('a proxy that does not start is an InterceptError with its exit, and no rule is added', async () => {
    const m = new MitmInterceptor(settings({ mitmdump: '/bin/false' }), { lanInterface: 'lo' });
    await assert.rejects(
      m.start({ dir, phoneAddrs: ['10.213.1.10'] }),
      (e: unknown) =>
        e instanceof InterceptError && /^mitmdump did not start \(exit status 1\)/.test(e.message),
    );
    await assert.rejects(
      m.start({ dir, phoneAddrs: [] }),
      (e: unknown) => e instanceof InterceptError && /needs the phone's address/.test(e.message),
    );
  });
});
