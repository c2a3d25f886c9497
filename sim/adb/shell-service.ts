/**
 * The shell services: `shell:CMD` (legacy, raw, stderr merged, no exit status), `shell,v2,…:CMD`
 * (shell protocol packets with separate stderr and an exit packet) and `exec:CMD` (raw both ways).
 * An empty command is an interactive shell; the phone plays it (and the terminal, when io.pty is set).
 */

import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ShellIo, SimPhone } from '../contracts.js';
import { errorMessage } from '../errors.js';
import {
  encodeShellPacket,
  SHELL_CLOSE_STDIN,
  SHELL_EXIT,
  SHELL_HEADER_SIZE,
  SHELL_STDERR,
  SHELL_STDIN,
  SHELL_STDOUT,
  ShellPacketReader,
} from './shell-packet.js';
import type { AdbStream } from './stream.js';

/** How one shell stream speaks. */
export interface ShellRequest {
  /** The command line ("" for an interactive shell). */
  command: string;
  /** True for the shell v2 protocol (packets, exit status). */
  v2: boolean;
  /** True when the client asked for a pty. */
  pty: boolean;
}

/**
 * Reads a shell service string: "shell:CMD", "shell,v2,TERM=xterm,raw:CMD", "exec:CMD".
 * Undefined when the service is not a shell one.
 */
export function parseShellService(service: string): ShellRequest | undefined {
  if (service.startsWith('exec:')) return { command: service.slice(5), v2: false, pty: false };
  if (!service.startsWith('shell:') && !service.startsWith('shell,')) return undefined;
  const colon = service.indexOf(':');
  const args = service.slice(6, colon).split(',');
  const command = service.slice(colon + 1);
  const v2 = args.includes('v2');
  // Legacy interactive shells get a pty, legacy commands run raw; v2 says which it wants.
  const pty = args.includes('pty') || (!args.includes('raw') && command === '');
  return { command, v2, pty };
}

/** Runs one shell request on the phone over the stream, then closes the stream. */
export function runShell(stream: AdbStream, phone: SimPhone, request: ShellRequest): void {
  const stdin = new Readable({
    read() {
      const resume = stdinResume;
      stdinResume = undefined;
      resume?.();
    },
  });
  let stdinResume: (() => void) | undefined;
  const feed = async (data: Buffer) => {
    if (stdin.readableEnded || stdin.destroyed) return;
    if (!stdin.push(data) && !stream.signal.aborted) {
      await new Promise<void>((resolve) => {
        stdinResume = resolve;
      });
    }
  };
  const endStdin = () => {
    if (!stdin.readableEnded) stdin.push(null);
  };
  stream.signal.addEventListener(
    'abort',
    () => {
      stdinResume?.();
      stdinResume = undefined;
    },
    { once: true },
  );

  if (request.v2) {
    const reader = new ShellPacketReader();
    stream.onData(async (data) => {
      for (const packet of reader.push(data)) {
        if (packet.id === SHELL_STDIN) await feed(packet.data);
        else if (packet.id === SHELL_CLOSE_STDIN) endStdin();
        // Window size changes mean nothing to a simulated shell.
      }
    });
  } else {
    stream.onData(feed);
  }
  stream.signal.addEventListener('abort', endStdin, { once: true });

  const writerFor = (packetId: number): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        send(stream, request.v2 ? packetId : undefined, chunk).then(() => callback());
      },
      // A phone writing after the end must not crash the simulator through an unhandled 'error'.
    }).on('error', () => {});
  const stdout = writerFor(SHELL_STDOUT);
  // A pty has one output; legacy shells merge stderr into stdout.
  const stderr = request.pty ? stdout : writerFor(SHELL_STDERR);
  const io: ShellIo = { stdin, stdout, stderr, signal: stream.signal, pty: request.pty };

  void (async () => {
    let status: number;
    try {
      status = await phone.shell(request.command, io);
    } catch (err) {
      stderr.write(`/system/bin/sh: ${errorMessage(err)}\n`);
      status = 255;
    }
    await Promise.all([drain(stdout), drain(stderr)]);
    if (request.v2) await stream.write(encodeShellPacket(SHELL_EXIT, Buffer.of(status & 0xff)));
    await stream.end();
  })();
}

/** Waits until everything written to the writable was sent (or the writable broke). */
async function drain(writable: Writable): Promise<void> {
  if (!writable.writableEnded) writable.end();
  try {
    await finished(writable);
  } catch {
    // A destroyed writable has nothing more to send.
  }
}

/** Sends output, cut into shell packets that each fit one WRTE when v2. */
async function send(stream: AdbStream, packetId: number | undefined, data: Buffer): Promise<void> {
  if (packetId === undefined) return stream.write(data);
  const room = stream.maxPayload - SHELL_HEADER_SIZE;
  for (let at = 0; at < data.length; at += room) {
    await stream.write(encodeShellPacket(packetId, data.subarray(at, at + room)));
  }
}
