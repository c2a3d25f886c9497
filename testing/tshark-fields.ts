/**
 * tshark as a test oracle: per-frame field values of a capture file, to check the packet layer
 * against. Test support only; nothing in the pipeline runs tshark.
 */

import { spawnSync } from 'node:child_process';

/** Whether tshark can be run here (tests skip their oracle checks with a message when not). */
export function tsharkAvailable(): boolean {
  const r = spawnSync('tshark', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * One record per frame tshark read, field name to the field's first occurrence ("" when absent).
 * IP reassembly is turned off so that every fragment is its own row. A file that tshark finds
 * damaged still yields the frames read before the damage.
 */
export function tsharkFields(
  file: string,
  fields: string[],
  extraArgs: string[] = [],
): Record<string, string>[] {
  const args = ['-r', file, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', ...extraArgs];
  args.push('-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=\t');
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  return lines.map((line) => {
    const values = line.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? '']));
  });
}
