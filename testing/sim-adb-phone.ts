/**
 * A small SimPhone for this folder's unit tests: a shell that knows a handful of commands, a temp
 * directory as "/", and TCP ports mapped to loopback ports. The integration test uses the real phone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AdbBanner, ShellIo, SimPhone } from '../sim/contracts.js';

export interface TestPhoneOptions {
  /** Demand AUTH and stay unauthorized. */
  unauthorized?: boolean;
  /** Phone port → loopback port that stands for a server listening on the phone. */
  tcpPorts?: Record<number, number>;
  /** How long a reboot takes, in ms. */
  rebootMs?: number;
}

/** A test phone plus what tests inspect. */
export interface TestPhone extends SimPhone {
  /** Phone paths pushed through sync, in order. */
  readonly pushed: string[];
  /** Reboot targets asked for, in order. */
  readonly reboots: string[];
  /** Commands whose signal aborted, in order. */
  readonly aborted: string[];
  /** Removes the temp root. */
  dispose(): void;
}

/**
 * Shell commands: tty or an empty line (prints pty or raw), echo WORDS, err WORDS (to stderr), exit N, true, false, cat (stdin to stdout),
 * bytes N (N bytes of a known pattern: byte i is i mod 251), wait (until the client goes away),
 * getprop KEY, adbkit's boot-wait loop, `cmd package install -S N` (reads N bytes of stdin, prints Success).
 */
export function createTestPhone(opts: TestPhoneOptions = {}): TestPhone {
  const rootDir = mkdtempSync(join(tmpdir(), 'phonehome-adbd-test-'));
  const pushed: string[] = [];
  const reboots: string[] = [];
  const aborted: string[] = [];
  const banner: AdbBanner = {
    state: 'device',
    productName: 'simtest',
    productModel: 'SimTest',
    productDevice: 'simtestdev',
  };
  return {
    serial: 'SIMTEST0001',
    rootDir,
    unauthorized: opts.unauthorized ?? false,
    pushed,
    reboots,
    aborted,
    banner: () => banner,
    hostPath(phonePath: string) {
      if (!phonePath.startsWith('/')) return undefined;
      const inside = normalize(phonePath);
      if (inside.split('/').includes('..')) return undefined;
      return join(rootDir, inside);
    },
    filePushed(phonePath: string) {
      pushed.push(phonePath);
    },
    async connectTcp(port: number): Promise<Duplex> {
      const target = opts.tcpPorts?.[port];
      if (target === undefined) {
        throw Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
      }
      return new Promise((resolve, reject) => {
        const socket = connect(target, '127.0.0.1');
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    },
    async reboot(target: string) {
      reboots.push(target);
      await new Promise((resolve) => setTimeout(resolve, opts.rebootMs ?? 200));
    },
    shell: (command, io) => runCommand(command, io, aborted),
    dispose() {
      rmSync(rootDir, { recursive: true, force: true });
    },
  };
}

async function runCommand(command: string, io: ShellIo, aborted: string[]): Promise<number> {
  // The adb client quotes each argument for exec-out ("bytes '100'"): unquote words as sh would.
  const [name = '', ...args] = command
    .trim()
    .split(/\s+/)
    .map((word) => word.replace(/^'(.*)'$/, '$1'));
  const rest = args.join(' ');
  switch (name) {
    case 'echo':
      io.stdout.write(`${rest}\n`);
      return 0;
    case 'err':
      io.stderr.write(`${rest}\n`);
      return 1;
    case 'exit':
      return Number(args[0] ?? 0);
    case 'true':
      return 0;
    case '':
    case 'tty':
      // What kind of terminal the adbd gave the command.
      io.stdout.write(io.pty ? 'pty\n' : 'raw\n');
      return 0;
    case 'false':
      return 1;
    case 'getprop':
      io.stdout.write(args[0] === 'ro.product.model' ? 'SimTest\n' : '\n');
      return 0;
    case 'cat':
      for await (const chunk of io.stdin) io.stdout.write(chunk);
      return 0;
    case 'bytes': {
      const total = Number(args[0]);
      const block = Buffer.alloc(251 * 256);
      for (let i = 0; i < block.length; i++) block[i] = i % 251;
      for (let at = 0; at < total; at += block.length) {
        const piece = block.subarray(0, Math.min(block.length, total - at));
        if (!io.stdout.write(piece)) await new Promise((resolve) => io.stdout.once('drain', resolve));
      }
      return 0;
    }
    case 'while':
      // adbkit's boot wait: `while getprop sys.boot_completed …; do sleep 1; done` prints 1 each second.
      io.stdout.write('1\n');
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return 130;
    case 'wait':
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      aborted.push(command);
      return 130;
    case 'cmd': {
      const size = Number(args[args.indexOf('-S') + 1]);
      let got = 0;
      for await (const chunk of io.stdin) {
        got += (chunk as Buffer).length;
        if (got >= size) break;
      }
      io.stdout.write(got === size ? 'Success\n' : `Failure [got ${got} of ${size} bytes]\n`);
      return got === size ? 0 : 1;
    }
    default:
      io.stderr.write(`/system/bin/sh: ${name}: inaccessible or not found\n`);
      return 127;
  }
}
