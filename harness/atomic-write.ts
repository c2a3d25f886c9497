/** Writing an output file so that readers see the old file or the whole new one, never half of it. */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes text to a temporary file beside `path`, flushes it to disk, then renames it over `path`
 * (rename is atomic within one file system). On any failure the temporary file is removed and
 * `path` is left as it was.
 */
export async function writeFileAtomic(path: string, text: string | Iterable<string>): Promise<void> {
  await removeStaleTemps(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let done = false;
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      if (typeof text === 'string') await fh.writeFile(text, 'utf8');
      else for (const batch of writeBatches(text)) await fh.write(batch);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
    done = true;
  } finally {
    if (!done) await rm(temp, { force: true });
  }
}

/** True while a process with this PID exists (it may be another's: then its file is left alone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files an earlier write of `path` left when it was killed (kill -9, a power
 * cut): those whose writing process is gone. A folder that cannot be listed is left as it is.
 */
async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (m && !alive(Number(m[1]))) await rm(join(dirname(path), name), { force: true });
  }
}

/** Size a batch of pieces reaches before writeBatches hands it out, in UTF-16 code units. */
const BATCH = 1 << 16;

/**
 * Small pieces of text gathered into batches of about 64 KiB: one write (one system call) per
 * batch rather than per piece, with memory bounded by the batch size.
 */
export function* writeBatches(pieces: Iterable<string>): Generator<string> {
  let pending = '';
  for (const piece of pieces) {
    pending += piece;
    if (pending.length >= BATCH) {
      yield pending;
      pending = '';
    }
  }
  if (pending.length > 0) yield pending;
}
