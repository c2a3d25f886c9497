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
      else {
        // Pieces gathered into writes of about 64 KiB.
        let pending: string[] = [];
        let size = 0;
        for (const piece of text) {
          pending.push(piece);
          size += piece.length;
          if (size >= 1 << 16) {
            await fh.write(pending.join(''));
            pending = [];
            size = 0;
          }
        }
        if (pending.length) await fh.write(pending.join(''));
      }
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
