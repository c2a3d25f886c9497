/**
 * The running lab's control socket (STATE_DIR/control.sock): `phonehome sim unplug|plug SERIAL` ask
 * the supervisor to pull one phone's cable or plug it back, as a lab engineer does at the bench, while
 * the other phones go on; `phonehome sim card remove|insert SERIAL` take its SIM card out or put it in
 * (a lab's SIM switch); `phonehome sim sms SERIAL` sends it an SMS; `phonehome sim reset SERIAL`
 * factory-resets it. One JSON request per connection, one JSON reply.
 */
import { existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { SimLabError, SimUsageError } from './errors.js';

/**
 * What the socket accepts: a cable pulled or plugged, a SIM card taken out or put in, an SMS sent to
 * the phone (sms-receive: from a number, with a text), a factory reset (answered once the phone is
 * back in its setup wizard).
 */
export type ControlRequest = { op: ControlOp; serial: string; from?: string; text?: string };

/** The operations, as `phonehome sim` names them. */
export const CONTROL_OPS = [
  'unplug',
  'plug',
  'sim-remove',
  'sim-insert',
  'sms-receive',
  'factory-reset',
] as const;

/** A sender's number as an SMS shows it: digits, spaces and a leading +. */
export const SMS_SENDER = /^\+?[0-9][0-9 ]{2,19}$/;

/** The longest text one SMS carries (GSM 7-bit alphabet, one part). */
export const SMS_MAX_TEXT = 160;
export type ControlOp = (typeof CONTROL_OPS)[number];

/** What it answers: what was done, or why not. */
export type ControlReply = { ok: true; detail: string } | { ok: false; error: string };

/** The control socket of the lab kept in `dir`. */
export function controlSocketPath(dir: string): string {
  return join(dir, 'control.sock');
}

const MAX_REQUEST = 4096;

/** Reads a request line; undefined when it is not one. */
export function parseControlRequest(text: string): ControlRequest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const op = CONTROL_OPS.find((o) => o === r['op']);
  if (!op || typeof r['serial'] !== 'string') return undefined;
  const req: ControlRequest = { op, serial: r['serial'] };
  if (op === 'sms-receive') {
    const { from, text } = r;
    if (typeof from !== 'string' || !SMS_SENDER.test(from)) return undefined;
    if (typeof text !== 'string' || text.length === 0 || text.length > SMS_MAX_TEXT) return undefined;
    req.from = from;
    req.text = text;
  }
  return req;
}

/** Listens on the lab's control socket; `handle` answers each request. */
export async function startControl(
  dir: string,
  handle: (r: ControlRequest) => Promise<ControlReply>,
): Promise<Server> {
  const path = controlSocketPath(dir);
  // A socket file left by a supervisor that was killed would make listen() fail with EADDRINUSE.
  if (existsSync(path)) rmSync(path, { force: true });
  const server = createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.length > MAX_REQUEST) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const req = parseControlRequest(text.slice(0, nl));
      if (!req) {
        socket.end(`${JSON.stringify({ ok: false, error: 'not a control request' })}\n`);
        return;
      }
      handle(req)
        .catch((err: unknown): ControlReply => ({ ok: false, error: String((err as Error)?.message ?? err) }))
        .then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref();
  return server;
}

/** Sends a request to the lab in `dir`; resolves with the supervisor's reply, rejects when none comes. */
export function sendControl(dir: string, req: ControlRequest, timeoutMs = 10_000): Promise<string> {
  const path = controlSocketPath(dir);
  if (!existsSync(path))
    return Promise.reject(new SimUsageError(`no running lab with a control socket in ${dir}`));
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SimLabError(`the lab's control socket ${path}`, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new SimLabError(`the lab's control socket ${path}`, err.message));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      let reply: ControlReply;
      try {
        reply = JSON.parse(text) as ControlReply;
      } catch {
        reject(new SimLabError(`the lab's control socket ${path}`, 'the supervisor gave no answer'));
        return;
      }
      if (reply.ok) resolve(reply.detail);
      else reject(new SimUsageError(reply.error));
    });
  });
}
