/**
 * The `sync:` service: STAT/LIST/SEND/RECV/QUIT and the v2 records STA2/LST2/LIS2 (answered with
 * STA2/LST2/DNT2) on the phone's sandboxed file tree. Requests are [id][length u32 LE][path].
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { SimPhone } from '../contracts.js';
import { ByteQueue } from './byte-queue.js';
import type { AdbStream } from './stream.js';

/** Longest path a request may carry. */
const MAX_PATH = 1024;
/** Largest DATA record, both ways. */
export const SYNC_DATA_MAX = 64 * 1024;
/** Size of a v2 stat record (STA2/LST2). */
const STAT_V2_SIZE = 72;

/** File-type bits of a mode. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** Runs one sync session over the stream, then closes it. */
export function runSync(stream: AdbStream, phone: SimPhone): void {
  const queue = new ByteQueue();
  stream.onData((data) => queue.push(data));
  stream.signal.addEventListener('abort', () => queue.end(), { once: true });
  void (async () => {
    try {
      while (!stream.closed && (await handleRequest(stream, phone, queue))) {
        // one request per turn
      }
    } finally {
      await stream.end();
    }
  })();
}

/** Handles one request; false ends the session (QUIT, a failure, or the host went away). */
async function handleRequest(stream: AdbStream, phone: SimPhone, queue: ByteQueue): Promise<boolean> {
  const header = await queue.read(8);
  if (!header) return false;
  const id = header.toString('latin1', 0, 4);
  const length = header.readUInt32LE(4);
  if (id === 'QUIT') return false;
  if (!['STAT', 'STA2', 'LST2', 'LIST', 'LIS2', 'SEND', 'RECV'].includes(id)) {
    await fail(stream, `unknown command ${JSON.stringify(id)}`);
    return false;
  }
  if (length > MAX_PATH) {
    await fail(stream, 'path too long');
    return false;
  }
  const pathBytes = await queue.read(length);
  if (!pathBytes) return false;
  const path = pathBytes.toString('utf8');
  switch (id) {
    case 'STAT':
      await stream.write(statV1(await statOf(phone, path, false)));
      return true;
    case 'STA2':
    case 'LST2':
      await stream.write(statV2(id, await statOf(phone, path, id === 'STA2')));
      return true;
    case 'LIST':
    case 'LIS2':
      await list(stream, phone, path, id === 'LIS2');
      return true;
    case 'SEND':
      return receiveFile(stream, phone, queue, path);
    default:
      return sendFile(stream, phone, path);
  }
}

/** A stat result or the errno it failed with. */
type StatResult = { stats: Stats } | { errno: number };

async function statOf(phone: SimPhone, phonePath: string, follow: boolean): Promise<StatResult> {
  const hostPath = phone.hostPath(phonePath);
  if (hostPath === undefined) return { errno: osConstants.errno.EACCES };
  try {
    return { stats: follow ? await stat(hostPath) : await lstat(hostPath) };
  } catch (err) {
    return { errno: errnoOf(err) };
  }
}

function statV1(result: StatResult): Buffer {
  const out = Buffer.alloc(16);
  out.write('STAT', 0, 'latin1');
  if ('stats' in result) {
    out.writeUInt32LE(result.stats.mode >>> 0, 4);
    out.writeUInt32LE(Number(BigInt(result.stats.size) & 0xffffffffn), 8);
    out.writeUInt32LE(Math.floor(result.stats.mtimeMs / 1000) >>> 0, 12);
  }
  return out;
}

/** The 72-byte v2 stat record, with the name length field appended for DNT2 entries. */
function statV2(id: string, result: StatResult, nameLength?: number): Buffer {
  const out = Buffer.alloc(STAT_V2_SIZE + (nameLength === undefined ? 0 : 4));
  out.write(id, 0, 'latin1');
  if ('errno' in result) out.writeUInt32LE(result.errno, 4);
  else {
    const s = result.stats;
    out.writeBigUInt64LE(BigInt(s.dev), 8);
    out.writeBigUInt64LE(BigInt(s.ino), 16);
    out.writeUInt32LE(s.mode >>> 0, 24);
    out.writeUInt32LE(s.nlink >>> 0, 28);
    out.writeUInt32LE(s.uid >>> 0, 32);
    out.writeUInt32LE(s.gid >>> 0, 36);
    out.writeBigUInt64LE(BigInt(s.size), 40);
    out.writeBigInt64LE(BigInt(Math.floor(s.atimeMs / 1000)), 48);
    out.writeBigInt64LE(BigInt(Math.floor(s.mtimeMs / 1000)), 56);
    out.writeBigInt64LE(BigInt(Math.floor(s.ctimeMs / 1000)), 64);
  }
  if (nameLength !== undefined) out.writeUInt32LE(nameLength, STAT_V2_SIZE);
  return out;
}

/** DENT/DNT2 per entry (with "." and "..", as readdir on a phone gives them), then DONE. */
async function list(stream: AdbStream, phone: SimPhone, phonePath: string, v2: boolean): Promise<void> {
  const hostPath = phone.hostPath(phonePath);
  const records: Buffer[] = [];
  let names: string[] = [];
  if (hostPath !== undefined) {
    try {
      names = ['.', '..', ...(await readdir(hostPath))];
    } catch {
      names = [];
    }
  }
  for (const name of names) {
    const nameBytes = Buffer.from(name, 'utf8');
    let result: StatResult;
    try {
      // ".." of the phone's "/" is "/" itself, never the host directory above the sandbox.
      const entry =
        name === '..' && resolve(hostPath!) === resolve(phone.rootDir) ? hostPath! : join(hostPath!, name);
      result = { stats: await lstat(entry) };
    } catch (err) {
      result = { errno: errnoOf(err) };
    }
    if (v2) records.push(statV2('DNT2', result, nameBytes.length), nameBytes);
    else if ('stats' in result) {
      const head = statV1(result);
      head.write('DENT', 0, 'latin1');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(nameBytes.length);
      records.push(head, len, nameBytes);
    }
  }
  const done = Buffer.alloc(v2 ? STAT_V2_SIZE + 4 : 20);
  done.write('DONE', 0, 'latin1');
  records.push(done);
  await writeBatched(stream, records);
}

/** SEND "path,mode", DATA…, DONE(mtime): into a temp file, renamed into place at DONE. */
async function receiveFile(
  stream: AdbStream,
  phone: SimPhone,
  queue: ByteQueue,
  spec: string,
): Promise<boolean> {
  const comma = spec.lastIndexOf(',');
  if (comma < 0) {
    await fail(stream, 'missing , in ID_SEND');
    return false;
  }
  const phonePath = spec.slice(0, comma);
  const mode = Number.parseInt(spec.slice(comma + 1), 10) || S_IFREG | 0o644;
  const hostPath = phone.hostPath(phonePath);
  if (hostPath === undefined) {
    const ok = await discardData(queue);
    if (ok) await fail(stream, `couldn't create file: ${strerror('EACCES')}`);
    return false;
  }
  const tempPath = join(dirname(hostPath), `.${basename(hostPath)}.adbd-${randomBytes(4).toString('hex')}`);
  const chunks: Buffer[] = [];
  let file: Awaited<ReturnType<typeof open>> | undefined;
  const isLink = (mode & S_IFMT) === S_IFLNK;
  try {
    await mkdir(dirname(hostPath), { recursive: true, mode: 0o771 });
    if (!isLink) file = await open(tempPath, 'w', mode & 0o7777);
    for (;;) {
      const head = await queue.read(8);
      if (!head) throw new Error('the host went away');
      const id = head.toString('latin1', 0, 4);
      const length = head.readUInt32LE(4);
      if (id === 'DONE') {
        if (isLink) {
          await unlink(hostPath).catch(() => {});
          await symlink(Buffer.concat(chunks).toString('utf8'), hostPath);
        } else {
          await file!.close();
          file = undefined;
          await chmod(tempPath, mode & 0o7777);
          await utimes(tempPath, length, length);
          await rename(tempPath, hostPath);
        }
        phone.filePushed?.(phonePath);
        const okay = Buffer.alloc(8);
        okay.write('OKAY', 0, 'latin1');
        await stream.write(okay);
        return true;
      }
      // A phone's adbd reads DATA into a 64 KiB buffer and refuses anything larger.
      if (id !== 'DATA')
        throw new SyncDataError(`invalid data message: expected DATA, got ${JSON.stringify(id)}`);
      if (length > SYNC_DATA_MAX) throw new SyncDataError('oversize data message');
      const data = await queue.read(length);
      if (!data) throw new Error('the host went away');
      if (isLink) chunks.push(Buffer.from(data));
      else await file!.write(data);
    }
  } catch (err) {
    await file?.close().catch(() => {});
    await unlink(tempPath).catch(() => {});
    if (stream.closed) return false;
    if (err instanceof SyncDataError) await fail(stream, err.message);
    else {
      await discardData(queue);
      await fail(stream, `couldn't create file: ${strerror((err as NodeJS.ErrnoException).code)}`);
    }
    return false;
  }
}

/** A protocol error inside SEND (not a file-system one). */
class SyncDataError extends Error {}

/** Reads and drops DATA records up to DONE, so that the host sees the FAIL after its last byte. */
async function discardData(queue: ByteQueue): Promise<boolean> {
  for (;;) {
    const head = await queue.read(8);
    if (!head) return false;
    const id = head.toString('latin1', 0, 4);
    if (id === 'DONE') return true;
    if (id !== 'DATA') return true;
    if (!(await queue.read(head.readUInt32LE(4)))) return false;
  }
}

/** RECV path: DATA chunks then DONE, or FAIL. */
async function sendFile(stream: AdbStream, phone: SimPhone, phonePath: string): Promise<boolean> {
  const hostPath = phone.hostPath(phonePath);
  if (hostPath === undefined) {
    await fail(stream, `open failed: ${strerror('EACCES')}`);
    return false;
  }
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(hostPath, fsConstants.O_RDONLY);
    if ((await file.stat()).isDirectory()) {
      await file.close();
      await fail(stream, `read failed: ${strerror('EISDIR')}`);
      return false;
    }
  } catch (err) {
    await fail(stream, `open failed: ${strerror((err as NodeJS.ErrnoException).code)}`);
    return false;
  }
  try {
    // Several DATA records per WRTE: a round trip per 64 KiB would cap the throughput.
    const perBatch = Math.max(1, Math.floor(stream.maxPayload / (SYNC_DATA_MAX + 8)));
    const buffer = Buffer.allocUnsafe(SYNC_DATA_MAX);
    for (;;) {
      const records: Buffer[] = [];
      let eof = false;
      for (let i = 0; i < perBatch; i++) {
        const { bytesRead } = await file.read(buffer, 0, SYNC_DATA_MAX, null);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        records.push(dataHeader('DATA', bytesRead), Buffer.from(buffer.subarray(0, bytesRead)));
      }
      if (eof) records.push(dataHeader('DONE', 0));
      if (records.length) await stream.write(Buffer.concat(records));
      if (eof || stream.closed) return !stream.closed;
    }
  } catch (err) {
    await fail(stream, `read failed: ${strerror((err as NodeJS.ErrnoException).code)}`);
    return false;
  } finally {
    await file.close().catch(() => {});
  }
}

function dataHeader(id: string, length: number): Buffer {
  const out = Buffer.alloc(8);
  out.write(id, 0, 'latin1');
  out.writeUInt32LE(length, 4);
  return out;
}

async function fail(stream: AdbStream, message: string): Promise<void> {
  const text = Buffer.from(message, 'utf8');
  await stream.write(Buffer.concat([dataHeader('FAIL', text.length), text]));
}

/** Writes records in as few WRTEs as the max payload allows. */
async function writeBatched(stream: AdbStream, records: Buffer[]): Promise<void> {
  let batch: Buffer[] = [];
  let size = 0;
  for (const record of records) {
    if (size + record.length > stream.maxPayload && batch.length) {
      await stream.write(Buffer.concat(batch));
      batch = [];
      size = 0;
    }
    batch.push(record);
    size += record.length;
  }
  if (batch.length) await stream.write(Buffer.concat(batch));
}

function errnoOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  const errno = code ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return errno ?? osConstants.errno.EIO;
}

/** The C library's words for an error code, as a phone's FAIL messages carry them. */
function strerror(code: string | undefined): string {
  const words: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    EEXIST: 'File exists',
    ENOSPC: 'No space left on device',
    EROFS: 'Read-only file system',
    ENAMETOOLONG: 'File name too long',
    ELOOP: 'Too many symbolic links encountered',
  };
  return (code && words[code]) ?? 'I/O error';
}
