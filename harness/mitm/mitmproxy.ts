/**
 * TLS interception with mitmproxy (Debian's mitmdump 8.1.1, ../shared/reference/INTERCEPT.md): for one
 * phone, mitmdump in transparent mode where the lab routes the phone's traffic, with phonehome's addon
 * writing every exchange into the run folder; firewall rules, named after this process and session,
 * that send only that phone's TCP 80 and 443 to it and reject only its UDP 443 (QUIC falls back to TCP);
 * and a warden process that removes them and stops mitmdump if phonehome dies before it does.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { errorMessage } from '../errors.js';
import { phonehomePackage } from '../project-dir.js';
import { InterceptError, type Interceptor, type InterceptSession } from '../run/intercept.js';

const exec = promisify(execFile);

/** Where the lab routes a phone's traffic: run there, with rules on this interface. */
export interface Gateway {
  /** A network namespace (a simulated lab's router); the host's own when absent. */
  netns?: string;
  /** The interface the phone's packets come in on. */
  lanInterface: string;
  /**
   * Do not verify the servers' certificates upstream (a simulated internet, whose one certificate
   * names no host); a real lab verifies them.
   */
  upstreamInsecure?: boolean;
}

/** The interception settings (config `intercept:`). */
export interface MitmSettings {
  /** mitmproxy's folder: its CA (made on first use) and settings. */
  confdir: string;
  /** Hosts passed through untouched (regular expressions, as mitmproxy's --ignore-hosts). */
  ignoreHosts: string[];
  onFailure: 'broken' | 'warn';
  /** Bytes of each body kept in the exchanges file. */
  bodyCap: number;
  /** The mitmdump program. */
  mitmdump: string;
  /** Install the CA on rooted phones that lack it, before each run. */
  installCa: boolean;
}

/** mitmproxy's folder when the config names none: ~/.local/share/phonehome/mitmproxy. */
export function defaultConfdir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'phonehome', 'mitmproxy');
}

/** The addon shipped with phonehome. */
export function addonPath(): string {
  const pkg = phonehomePackage();
  return pkg
    ? join(pkg.dir, 'harness', 'mitm', 'addon', 'phonehome_exchanges.py')
    : fileURLToPath(new URL('./addon/phonehome_exchanges.py', import.meta.url));
}

/** Makes mitmproxy's CA in confdir when it is not there yet; returns the CA certificate's file. */
export async function ensureCa(s: Pick<MitmSettings, 'confdir' | 'mitmdump'>): Promise<string> {
  const cert = join(s.confdir, 'mitmproxy-ca-cert.pem');
  if (existsSync(cert)) return cert;
  await mkdir(s.confdir, { recursive: true, mode: 0o700 });
  try {
    // Reading an empty flow file with the server off: mitmdump makes its CA and exits.
    await exec(s.mitmdump, ['-n', '-q', '-r', '/dev/null', '--set', `confdir=${s.confdir}`], {
      timeout: 60_000,
    });
  } catch (err) {
    throw new InterceptError(`cannot make mitmproxy's CA in ${s.confdir}: ${errorMessage(err)}`);
  }
  if (!existsSync(cert)) throw new InterceptError(`mitmdump made no CA in ${s.confdir}`);
  return cert;
}

/** OpenSSL's old subject hash of a certificate: its file name in Android's store is HASH.0. */
export async function subjectHashOld(certFile: string): Promise<string> {
  const { stdout } = await exec('openssl', ['x509', '-noout', '-subject_hash_old', '-in', certFile]);
  const hash = stdout.trim().split('\n')[0] ?? '';
  if (!/^[0-9a-f]{8}$/.test(hash)) throw new InterceptError(`openssl gave no subject hash for ${certFile}`);
  return hash;
}

/** The warden of this process (one for every session), started on first use. */
let warden: ChildProcess | undefined;
let taskCount = 0;

function wardenScript(): string {
  return fileURLToPath(new URL(`./warden.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
}

function tellWarden(message: object): void {
  if (!warden || warden.exitCode !== null) {
    const fromSources = import.meta.url.endsWith('.ts');
    warden = spawn(
      process.execPath,
      [...(fromSources ? ['--import', import.meta.resolve('tsx')] : []), wardenScript()],
      { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
    );
    warden.stdin!.on('error', () => undefined);
    warden.unref();
    (warden.stdin as unknown as { unref?: () => void }).unref?.();
  }
  warden.stdin!.write(`${JSON.stringify(message)}\n`);
}

/** The PID of this process's warden, when one runs (for tests). */
export function wardenPid(): number | undefined {
  return warden?.exitCode === null ? warden.pid : undefined;
}

/** A free TCP port for the proxy where it will listen (ports 38000–38999 not listening there now). */
async function freePort(netns: string | undefined): Promise<number> {
  const { stdout } = await exec(netns ? 'ip' : 'ss', [
    ...(netns ? ['netns', 'exec', netns, 'ss'] : []),
    '-Htln',
  ]);
  const used = new Set([...stdout.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
  const start = 38000 + Math.floor(Math.random() * 1000);
  for (let i = 0; i < 1000; i++) {
    const p = 38000 + ((start - 38000 + i) % 1000);
    if (!used.has(p)) return p;
  }
  throw new InterceptError('no free port for mitmdump in 38000-38999');
}

/** The interceptor for one phone's gateway. */
export class MitmInterceptor implements Interceptor {
  readonly name = 'mitmproxy';
  readonly ignoreHosts: RegExp[];
  readonly onFailure: 'broken' | 'warn';
  constructor(
    readonly settings: MitmSettings,
    readonly gateway: Gateway,
  ) {
    this.ignoreHosts = settings.ignoreHosts.map((p) => new RegExp(p, 'i'));
    this.onFailure = settings.onFailure;
  }

  get installCa(): boolean {
    return this.settings.installCa;
  }

  async ca(): Promise<{ fileName: string; pem: string }> {
    const cert = await ensureCa(this.settings);
    return { fileName: `${await subjectHashOld(cert)}.0`, pem: await readFile(cert, 'utf8') };
  }

  async start(o: { dir: string; phoneAddrs: string[]; signal?: AbortSignal }): Promise<InterceptSession> {
    const s = this.settings;
    const gw = this.gateway;
    const v4 = o.phoneAddrs.filter((a) => !a.includes(':'));
    const v6 = o.phoneAddrs.filter((a) => a.includes(':'));
    if (v4.length + v6.length === 0)
      throw new InterceptError("interception needs the phone's address: the phone told none");
    await ensureCa(s);
    const inNs = (cmd: string[]) => (gw.netns ? ['ip', 'netns', 'exec', gw.netns, ...cmd] : cmd);
    const port = await freePort(gw.netns);
    const file = join(o.dir, 'exchanges.jsonl');
    const session = `${process.pid}-${++taskCount}`;
    const tag = `phonehome-intercept-${session}`;
    const args = [
      '--mode',
      'transparent',
      '--showhost',
      '--listen-port',
      String(port),
      '--set',
      'block_global=false',
      '--set',
      `confdir=${s.confdir}`,
      '-s',
      addonPath(),
      '--set',
      `phonehome_exchanges=${file}`,
      '--set',
      `phonehome_body_cap=${s.bodyCap}`,
      ...s.ignoreHosts.flatMap((h) => ['--ignore-hosts', h]),
      ...(gw.upstreamInsecure ? ['--ssl-insecure'] : []),
    ];
    const argv = inNs([s.mitmdump, ...args]);
    const proc = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-8192);
    });
    proc.stderr!.on('data', (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-8192);
    });
    const exited = new Promise<string>((resolve) =>
      proc.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exit status ${code}`)),
    );
    proc.once('error', () => undefined);
    if (proc.pid) tellWarden({ id: `${tag}-proxy`, kill: proc.pid });
    const rules: string[][] = [];
    const undo: string[] = [];
    const stop = async (): Promise<string[]> => {
      const problems: string[] = [];
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const how = await Promise.race([
          exited,
          new Promise<undefined>((r) => {
            // Unref'd: a timer left after the race must not keep phonehome from exiting.
            setTimeout(() => r(undefined), 8000).unref();
          }),
        ]);
        if (how === undefined) {
          proc.kill('SIGKILL');
          await exited;
          problems.push('mitmdump did not stop on SIGTERM within 8 s: killed');
        }
      }
      tellWarden({ done: `${tag}-proxy` });
      for (const [i, rule] of rules.entries()) {
        const del = inNs([rule[0]!, '-w', ...rule.slice(1).map((a) => (a === '-I' ? '-D' : a))]);
        try {
          await exec(del[0]!, del.slice(1), { timeout: 15_000 });
        } catch (err) {
          problems.push(`cannot remove firewall rule ${tag}: ${errorMessage(err)}`);
        }
        tellWarden({ done: undo[i] });
      }
      return problems;
    };
    try {
      // Ready once it says it listens; an early exit or 30 s of silence is a failure.
      const ready = await Promise.race([
        new Promise<true>((resolve) => {
          const check = () => {
            if (/listening at/i.test(output)) resolve(true);
          };
          proc.stdout!.on('data', check);
          proc.stderr!.on('data', check);
        }),
        exited,
        new Promise<string>((r) => {
          setTimeout(() => r('not listening after 30 s'), 30_000).unref();
        }),
      ]);
      if (ready !== true)
        throw new InterceptError(
          `mitmdump did not start (${ready}): ${output.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
        );
      const comment = ['-m', 'comment', '--comment', tag];
      for (const [tool, addrs] of [
        ['iptables', v4],
        ['ip6tables', v6],
      ] as const) {
        for (const a of addrs) {
          rules.push([
            tool,
            '-t',
            'nat',
            '-I',
            'PREROUTING',
            '-i',
            gw.lanInterface,
            '-s',
            a,
            '-p',
            'tcp',
            '-m',
            'multiport',
            '--dports',
            '80,443',
            ...comment,
            '-j',
            'REDIRECT',
            '--to-ports',
            String(port),
          ]);
          // QUIC cannot be intercepted by mitmproxy 8: rejected so that apps fall back to TCP. INPUT
          // for a gateway that is the destination itself, FORWARD for one that routes.
          for (const chain of ['INPUT', 'FORWARD'])
            rules.push([
              tool,
              '-I',
              chain,
              '-s',
              a,
              '-p',
              'udp',
              '--dport',
              '443',
              ...comment,
              '-j',
              'REJECT',
            ]);
        }
      }
      for (const [i, rule] of rules.entries()) {
        const id = `${tag}-rule${i}`;
        undo.push(id);
        // Told to the warden before it exists: a crash in between leaves a harmless failed delete.
        tellWarden({
          id,
          undo: inNs([rule[0]!, '-w', ...rule.slice(1).map((a) => (a === '-I' ? '-D' : a))]),
        });
        const add = inNs([rule[0]!, '-w', ...rule.slice(1)]);
        try {
          await exec(add[0]!, add.slice(1), { timeout: 15_000 });
        } catch (err) {
          rules.splice(i);
          throw new InterceptError(
            `cannot add firewall rule ${tag} (${rule.join(' ')}): ${errorMessage(err)}`,
          );
        }
      }
    } catch (err) {
      const left = await stop();
      if (err instanceof InterceptError) {
        if (left.length) err.message += `; ${left.join('; ')}`;
        throw err;
      }
      throw new InterceptError(errorMessage(err));
    }
    return {
      file,
      notes: [
        `mitmdump pid ${proc.pid} on port ${port}${gw.netns ? ` in ${gw.netns}` : ''}; ` +
          `${rules.length} firewall rules "${tag}" on ${gw.lanInterface} for ${[...v4, ...v6].join(', ')}`,
      ],
      stop,
    };
  }
}
