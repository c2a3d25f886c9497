import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from './atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'phonehome-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writes a new file and replaces an old one whole, leaving no temporary file', async () => {
  const path = join(dir, 'out.json');
  await writeFileAtomic(path, 'first\n');
  assert.equal(readFileSync(path, 'utf8'), 'first\n');
  await writeFileAtomic(path, 'x'.repeat(1 << 20));
  assert.equal(readFileSync(path, 'utf8').length, 1 << 20);
  assert.deepEqual(readdirSync(dir), ['out.json']);
});

test('a failed write leaves the old file as it was and no temporary file behind', async () => {
  const sub = join(dir, 'fail');
  mkdirSync(sub);
  const path = join(sub, 'target');
  // A directory where the file should go makes rename fail after the temporary file was written.
  mkdirSync(path);
  writeFileSync(join(path, 'keep'), 'old');
  await assert.rejects(writeFileAtomic(path, 'new'));
  assert.deepEqual(readdirSync(sub), ['target']);
  assert.equal(readFileSync(join(path, 'keep'), 'utf8'), 'old');
  await assert.rejects(writeFileAtomic(join(dir, 'no-such-dir', 'x'), 'new'), { code: 'ENOENT' });
});
