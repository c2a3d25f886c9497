/**
 * Micro-benchmark of the packet layer: reads a capture file, decodes every frame, prints the rates.
 * Usage: node dist/bench/decode-rate.js FILE [REPEAT]
 * (or npx tsx bench/decode-rate.ts FILE). Not a test.
 */

import { readCaptureFile } from '../harness/packets/capture-file.js';
import { PacketDecoder } from '../harness/packets/packet-decoder.js';

async function main(): Promise<void> {
  const file = process.argv[2];
  const repeat = Number(process.argv[3] ?? 1);
  if (!file) {
    process.stderr.write('usage: bench-decode FILE [REPEAT]\n');
    process.exit(2);
  }
  for (let i = 0; i < repeat; i++) {
    const decoder = new PacketDecoder();
    let payloadBytes = 0;
    const t0 = process.hrtime.bigint();
    const summary = await readCaptureFile(file, (frame) => {
      const p = decoder.decode(frame);
      if (p) payloadBytes += p.ipPayloadLen;
    });
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const s = decoder.stats();
    const skipped = decoder.skipped().reduce((a, x) => a + x.count, 0);
    process.stdout.write(
      `${summary.frames} frames, ${s.decoded} packets, ${skipped} skipped, ${payloadBytes} IP payload bytes ` +
        `in ${(sec * 1000).toFixed(1)} ms: ${Math.round(summary.frames / sec).toLocaleString('en')} frames/s, ` +
        `${(summary.bytes / sec / 1e6).toFixed(0)} MB/s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB\n`,
    );
  }
}

await main();
