/**
 * Capture with tcpdump on the lab interface (the access point the phone joined). tcpdump writes the
 * pcap to its stdout (-U -w -); phonehome writes the file and feeds live listeners from that one
 * stream. Only tcpdump needs capture privileges (setcap cap_net_raw,cap_net_admin=eip on it).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type OpOptions, sleep, within } from '../deadline.js';
import { CaptureError } from '../errors.js';
import type { CaptureBackend, CaptureSession, CaptureStats, CaptureTarget } from '../run/capture.js';
import { phoneFilter } from './bpf-filter.js';
import { ByteFanout } from './byte-fanout.js';
import { CaptureFile } from './capture-file.js';

/** Settings of the tcpdump backend. */
export interface TcpdumpOptions {
  /** The interface to capture on (the lab access point's, or a simulated phone's bridge). */
  interface: string;
  /** The tcpdump binary. */
  bin?: string;
  /** Snap length; 0 = whole packets. */
  snaplen?: number;
  /** Kernel capture buffer in KiB (tcpdump -B); 64 MiB by default. */
  bufferKiB?: number;
}

/** Reads tcpdump's closing statistics from its stderr. */
export function parseTcpdumpStats(stderr: string): {
  captured?: number;
  received?: number;
  dropped?: number;
} {
  const num = (re: RegExp) => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const captured = num(/^(\d+) packets? captured/m);
  const received = num(/^(\d+) packets? received by filter/m);
  const dropped = num(/^(\d+) packets? dropped by kernel/m);
  return {
    ...(captured !== undefined ? { captured } : {}),
    ...(received !== undefined ? { received } : {}),
    ...(dropped !== undefined ? { dropped } : {}),
  };
}

export class TcpdumpCapture implements CaptureBackend {
  readonly name = 'tcpdump';
  constructor(readonly options: TcpdumpOptions) {}

  async start(opts: OpOptions & { file: string; target: CaptureTarget }): Promise<CaptureSession> {
    const filter = phoneFilter(this.name, opts.target);
    const args = [
      '-i',
      this.options.interface,
      '-n',
      '-U',
      '--immediate-mode',
      // A 64 MiB kernel buffer: with whole-packet snaplen the default 2 MiB holds only a few packets
      // (measured: lossless to 5k packets/s with it, to 75k with this; see BENCHMARKS.md).
      '-B',
      String(this.options.bufferKiB ?? 65536),
      '-s',
      String(this.options.snaplen ?? 0),
      '-w',
      '-',
      ...(filter ? [filter] : []),
    ];
    const child = spawn(this.options.bin ?? 'tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A write that fails (the disk full) is reported by stop(); tcpdump stops, as nothing is recorded.
    const out = new CaptureFile(opts.file, () => child.kill('SIGINT'));
    const listeners = new ByteFanout();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out.write(chunk);
      listeners.emit(chunk);
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('close', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });

    await waitListening(child, () => stderr, exited, this.options.interface, opts);
    return new TcpdumpSession(opts.file, this.options.interface, child, out, listeners, () => stderr, exited);
  }
}

async function waitListening(
  child: ChildProcess,
  stderr: () => string,
  exited: Promise<number | null>,
  iface: string,
  opts: OpOptions,
): Promise<void> {
  const deadline = Date.now() + (opts.deadlineMs ?? 10_000);
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  while (!/listening on /.test(stderr())) {
    if (gone || opts.signal?.aborted || Date.now() > deadline) {
      child.kill('SIGKILL');
      const why =
        stderr().trim().split('\n').pop() || (gone ? 'tcpdump exited' : 'tcpdump did not start in time');
      throw new CaptureError('tcpdump', `cannot capture on ${iface}: ${why}`);
    }
    await sleep(20);
  }
}

class TcpdumpSession implements CaptureSession {
  constructor(
    readonly file: string,
    readonly iface: string,
    readonly child: ChildProcess,
    readonly out: CaptureFile,
    readonly listeners: ByteFanout,
    readonly stderr: () => string,
    readonly exited: Promise<number | null>,
  ) {}

  onBytes(listener: (chunk: Uint8Array) => void): void {
    if (!this.listeners.add(listener)) {
      throw new CaptureError('tcpdump', 'a live listener came after the capture had started streaming');
    }
  }

  async stop(opts: OpOptions = {}): Promise<CaptureStats> {
    const { exitCode, signalCode } = this.child;
    const writeError = this.out.failure('tcpdump');
    if (writeError) {
      await within(this.exited, opts, { defaultMs: 10_000 });
      this.child.kill('SIGKILL');
      await this.out.close();
      throw writeError;
    }
    if (exitCode !== null || signalCode !== null) {
      // tcpdump ended on its own during the capture (killed, its interface gone): whatever the file
      // holds, the capture did not cover the run, and the reason is tcpdump's.
      await this.out.close();
      const said = this.stderr()
        .trim()
        .split('\n')
        .filter(
          (l) =>
            !/^(tcpdump: )?(listening on |verbose output suppressed)/.test(l) &&
            !/packets? (captured|received|dropped)/.test(l),
        )
        .pop();
      const how = signalCode ? `was killed (${signalCode})` : `exited with status ${exitCode}`;
      if (!this.iface.includes('/') && !existsSync(join('/sys/class/net', this.iface)))
        throw new CaptureError(
          'tcpdump',
          `the capture interface ${this.iface} was removed during the capture (tcpdump ${how}${said ? `: ${said}` : ''})`,
        );
      throw new CaptureError('tcpdump', `tcpdump ${how} during the capture${said ? `: ${said}` : ''}`);
    }
    // SIGINT makes tcpdump flush and print its statistics.
    this.child.kill('SIGINT');
    const r = await within(this.exited, opts, { defaultMs: 10_000 });
    const notes: string[] = [];
    if (!r.done) {
      this.child.kill('SIGKILL');
      await this.exited;
      notes.push(
        r.why === 'timeout'
          ? `tcpdump did not stop within ${r.ms} ms and was killed; its statistics are missing`
          : 'the run was stopped before tcpdump finished; it was killed and its statistics are missing',
      );
    }
    await this.out.close();
    // The last writes fail as the file is closed, when the disk filled up at the end.
    const lateWriteError = this.out.failure('tcpdump');
    if (lateWriteError) throw lateWriteError;
    const s = parseTcpdumpStats(this.stderr());
    const bytes = (await stat(this.file)).size;
    notes.push(
      ...this.stderr()
        .split('\n')
        .filter((l) => /packets? (captured|received|dropped)/.test(l)),
    );
    return {
      packets: s.captured ?? 0,
      dropped: s.dropped ?? 'unknown',
      bytes,
      notes,
    };
  }
}
