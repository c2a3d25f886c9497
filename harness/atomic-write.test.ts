import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeBatches, writeFileAtomic } from './atomic-write.js';

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

test('writeBatches gathers small pieces into batches of about 64 KiB, keeping every character in order', () => {
  const pieces = Array.from({ length: 20_000 }, (_, i) => `piece ${i} ü\n`);
  const batches = [...writeBatches(pieces)];
  assert.equal(batches.join(''), pieces.join(''));
  assert.ok(batches.length >= 2, `${batches.length} batches`);
  for (const b of batches.slice(0, -1)) {
    assert.ok(b.length >= 1 << 16 && b.length < (1 << 16) + 20, `batch of ${b.length}`);
  }
  assert.deepEqual([...writeBatches([])], []);
  assert.deepEqual([...writeBatches(['', ''])], []);
});

test("a temporary file left by a writer that was killed is removed by the next write; a live writer's stays", async () => {
  const { spawnSync } = await import('node:child_process');
  const sub = join(dir, 'stale');
  mkdirSync(sub);
  // A PID that has been used and is gone now.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const deadPid = Number(gone.stdout);
  writeFileSync(join(sub, `.out.json.${deadPid}.0badcafe.tmp`), 'half of it');
  writeFileSync(join(sub, `.out.json.${process.pid}.0123abcd.tmp`), 'another write under way');
  writeFileSync(join(sub, '.other.json.1.0badcafe.tmp'), 'not ours');
  await writeFileAtomic(join(sub, 'out.json'), 'whole\n');
  assert.deepEqual(
    readdirSync(sub).sort(),
    [`.other.json.1.0badcafe.tmp`, `.out.json.${process.pid}.0123abcd.tmp`, 'out.json'].sort(),
  );
});
