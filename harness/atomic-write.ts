/** Writing an output file so that readers see the old file or the whole new one, never half of it. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes text to a temporary file beside `path`, flushes it to disk, then renames it over `path`
 * (rename is atomic within one file system). On any failure the temporary file is removed and
 * `path` is left as it was.
 */
export async function writeFileAtomic(path: string, text: string | Iterable<string>): Promise<void> {
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
