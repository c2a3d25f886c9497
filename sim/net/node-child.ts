/**
 * How to start one of this folder's entry scripts as a separate Node process: the compiled .js from
 * dist/, or the .ts source through tsx when the caller itself runs from sources (tests under tsx).
 */
import { fileURLToPath } from 'node:url';

/** Arguments for `node` (after the executable) that run the sibling entry script `name`. */
export function nodeEntryArgs(name: string): string[] {
  const self = import.meta.url;
  const ext = self.endsWith('.ts') ? '.ts' : '.js';
  const script = fileURLToPath(new URL(`./${name}${ext}`, self));
  if (ext === '.ts') return ['--import', import.meta.resolve('tsx'), script];
  return ['--enable-source-maps', script];
}
