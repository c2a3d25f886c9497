import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pcapFile } from '../../testing/capture-writer.js';
import { readCaptureFile } from './capture-file.js';
import { CaptureFormatError } from './packet.js';

const dir = mkdtempSync(join(tmpdir(), 'phonehome-capture-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a file larger than the read buffers: every frame, in order, with its bytes', async () => {
  // 3000 frames of 1001..4000 bytes: about 7.5 MB, records straddling the 1 MiB buffers.
  const frames = Array.from({ length: 3000 }, (_, i) => {
    const data = new Uint8Array(1001 + i);
    data.fill(i & 255);
    data[0] = i >> 8;
    return { ts: 1700000000 + i / 1000, data };
  });
  const path = join(dir, 'big.pcap');
  const bytes = pcapFile({ linkType: 101 }, frames);
  writeFileSync(path, bytes);
  let n = 0;
  const summary = await readCaptureFile(path, (f) => {
    const i = f.index;
    assert.equal(i, n++);
    assert.equal(f.data.length, 1001 + i);
    assert.equal(f.data[0], i >> 8);
    assert.equal(f.data[f.data.length - 1], i & 255);
  });
  assert.equal(n, 3000);
  assert.deepEqual(summary, { format: 'pcap', frames: 3000, bytes: bytes.length, linkTypes: [101] });
});

test('a file that is not a capture is a CaptureFormatError; a missing one the fs error', async () => {
  const path = join(dir, 'notes.txt');
  writeFileSync(path, 'these are not packets\n');
  await assert.rejects(
    readCaptureFile(path, () => {}),
    CaptureFormatError,
  );
  await assert.rejects(
    readCaptureFile(join(dir, 'absent.pcap'), () => {}),
    { code: 'ENOENT' },
  );
});

test('an aborted read stops with the abort reason', async () => {
  const path = join(dir, 'small.pcap');
  writeFileSync(path, pcapFile({ linkType: 101 }, [{ ts: 1, data: new Uint8Array(10) }]));
  const ac = new AbortController();
  ac.abort(new Error('deadline passed'));
  await assert.rejects(
    readCaptureFile(path, () => {}, { signal: ac.signal }),
    /deadline passed/,
  );
});
