import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaptureFile } from './capture-file.js';

describe('CaptureFile', () => {
  it('keeps a write that fails on a full disk (/dev/full) as the reason, calls back once, and does not throw', async () => {
    let told = 0;
    const f = new CaptureFile('/dev/full', () => {
      told += 1;
    });
    f.write(Buffer.alloc(100_000, 1));
    f.write(Buffer.alloc(100_000, 2));
    await f.close();
    const err = f.failure('tcpdump');
    assert.ok(err, 'the failure is kept');
    assert.equal(told, 1);
    assert.equal(
      err.reason,
      'cannot write the capture file /dev/full: no space left on the device (ENOSPC); it holds what was written before',
    );
  });

  it('writes everything and reports no failure when the disk takes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'phonehome-capfile-'));
    try {
      const f = new CaptureFile(join(dir, 'c.pcap'), () => assert.fail('no failure expected'));
      f.write(Buffer.from('abc'));
      f.write(Buffer.from('def'));
      await f.close();
      assert.equal(f.failure('cap'), undefined);
      assert.equal(await readFile(join(dir, 'c.pcap'), 'utf8'), 'abcdef');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
