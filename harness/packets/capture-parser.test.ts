import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concat, type FrameToWrite, PcapngWriter, pcapFile } from '../../testing/capture-writer.js';
import { CaptureParser, readCapture } from './capture-parser.js';
import type { CaptureSummary, CustomBlock } from './capture-summary.js';
import { CaptureFormatError, type Frame } from './packet.js';

const enc = new TextEncoder();

function frames3(): FrameToWrite[] {
  return [
    { ts: 1700000000.123456, data: enc.encode('first frame') },
    { ts: 1700000001.5, data: enc.encode('second, cut by snaplen'), origLen: 1500 },
    { ts: 1700000002.000001, data: enc.encode('3') },
  ];
}

/** Parses `bytes` pushed in the given chunk sizes (cycled), copying each frame's data. */
function parse(
  bytes: Uint8Array,
  chunkSizes: number[] = [bytes.length],
  onCustomBlock?: (b: CustomBlock) => void,
): { frames: (Omit<Frame, 'data'> & { data: Uint8Array })[]; summary: CaptureSummary } {
  const frames: Frame[] = [];
  const parser = new CaptureParser((f) => frames.push({ ...f, data: f.data.slice() }), { onCustomBlock });
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    parser.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return { frames, summary: parser.end() };
}

function text(d: Uint8Array): string {
  return new TextDecoder().decode(d);
}

describe('classic pcap', () => {
  for (const littleEndian of [true, false]) {
    for (const nano of [false, true]) {
      test(`${littleEndian ? 'little' : 'big'}-endian, ${nano ? 'nanosecond' : 'microsecond'} timestamps`, () => {
        const file = pcapFile({ linkType: 101, littleEndian, nano }, frames3());
        const { frames, summary } = parse(file);
        assert.deepEqual(summary, { format: 'pcap', frames: 3, bytes: file.length, linkTypes: [101] });
        assert.deepEqual(
          frames.map((f) => [text(f.data), f.origLen, f.linkType, f.index, f.interfaceId]),
          [
            ['first frame', 11, 101, 0, 0],
            ['second, cut by snaplen', 1500, 101, 1, 0],
            ['3', 1, 101, 2, 0],
          ],
        );
        assert.ok(Math.abs(frames[0]!.ts - 1700000000.123456) < 1e-7);
        assert.ok(Math.abs(frames[2]!.ts - 1700000002.000001) < 1e-7);
        assert.deepEqual(
          frames.map((f) => f.offset),
          [24, 24 + 16 + 11, 24 + 16 + 11 + 16 + 22],
        );
      });
    }
  }

  test('nanosecond fractions are kept to sub-microsecond precision', () => {
    const file = pcapFile({ linkType: 1, nano: true }, [{ ts: 1.000000789, data: new Uint8Array(1) }]);
    const { frames } = parse(file);
    assert.ok(Math.abs(frames[0]!.ts - 1.000000789) < 1e-12, String(frames[0]!.ts));
  });

  test('the FCS bits of the link-type field are ignored', () => {
    const file = pcapFile({ linkType: 1 }, frames3());
    file[20 + 3] = 0x50; // FCS length 2, "f" bit set, link type 1
    const { summary, frames } = parse(file);
    assert.deepEqual(summary.linkTypes, [1]);
    assert.equal(frames[0]!.linkType, 1);
  });

  test('modified (Kuznetzov) pcap with 24-byte record headers', () => {
    const plain = pcapFile({ linkType: 1 }, [{ ts: 5, data: enc.encode('abcd') }]);
    const rec = plain.subarray(24);
    const file = concat([plain.subarray(0, 24), rec.subarray(0, 16), new Uint8Array(8), rec.subarray(16)]);
    file.set([0x34, 0xcd, 0xb2, 0xa1], 0);
    const { frames } = parse(file);
    assert.equal(text(frames[0]!.data), 'abcd');
  });

  test('records split across chunks in every way give the same frames', () => {
    const file = pcapFile({ linkType: 101 }, frames3());
    const whole = parse(file).frames;
    for (const sizes of [[1], [2, 3], [7], [16], [17, 1, 40], [23, 25]]) {
      const { frames, summary } = parse(file, sizes);
      assert.deepEqual(frames, whole, `chunk sizes ${sizes}`);
      assert.equal(summary.frames, 3);
      assert.equal(summary.truncated, undefined);
    }
  });

  test('frames are views into the pushed chunk, not copies', () => {
    const file = pcapFile({ linkType: 101 }, frames3());
    const seen: Uint8Array[] = [];
    const parser = new CaptureParser((f) => seen.push(f.data));
    parser.push(file);
    parser.end();
    assert.equal(seen.length, 3);
    for (const d of seen) assert.equal(d.buffer, file.buffer);
  });

  test('a partial last record is reported as truncated, not thrown', () => {
    const file = pcapFile({ linkType: 101 }, frames3());
    const secondAt = 24 + 16 + 11;
    for (const cut of [secondAt + 3, secondAt + 16, secondAt + 20, file.length - 1]) {
      const { frames, summary } = parse(file.subarray(0, cut), [5]);
      const expectFrames = cut >= secondAt + 16 + 22 ? 2 : 1;
      assert.equal(summary.frames, expectFrames);
      assert.equal(frames.length, expectFrames);
      assert.equal(summary.bytes, cut);
      assert.equal(summary.truncated?.offset, expectFrames === 1 ? secondAt : secondAt + 16 + 22);
      assert.match(summary.truncated!.message, /stream ends inside a record/);
    }
  });

  test('a file cut inside its header is truncated with no frames', () => {
    const file = pcapFile({ linkType: 101 }, frames3());
    const { summary } = parse(file.subarray(0, 10));
    assert.equal(summary.frames, 0);
    assert.equal(summary.truncated?.offset, 0);
    assert.match(summary.truncated!.message, /file header/);
  });

  test('a record claiming an impossible size stops the reading there, keeping the frames before it', () => {
    const file = pcapFile({ linkType: 101 }, frames3());
    const secondAt = 24 + 16 + 11;
    file.set([0xff, 0xff, 0xff, 0x7f], secondAt + 8); // incl_len 0x7fffffff, little endian
    for (const chunks of [[file.length], [7, 13], [1]]) {
      const { frames, summary } = parse(file, chunks);
      assert.deepEqual(
        frames.map((f) => text(f.data)),
        ['first frame'],
        `chunks ${chunks}`,
      );
      assert.equal(summary.frames, 1);
      assert.equal(summary.bytes, file.length, 'every byte was taken in');
      assert.deepEqual(summary.truncated, {
        offset: secondAt,
        message: 'pcap record claims 2147483647 captured bytes (more than 16777216): the file is corrupt',
        corrupt: true,
      });
    }
  });
});

describe('not a capture', () => {
  test('a text file is a CaptureFormatError at offset 0 naming its first bytes', () => {
    assert.throws(
      () => parse(enc.encode('<html>not a capture</html>')),
      (e) => e instanceof CaptureFormatError && e.offset === 0 && /3c 68 74 6d/.test(e.message),
    );
  });

  test('an empty stream is a CaptureFormatError', () => {
    assert.throws(() => new CaptureParser(() => {}).end(), CaptureFormatError);
  });

  test('the error comes as soon as four bytes are there, even one byte at a time', () => {
    const p = new CaptureParser(() => {});
    p.push(Uint8Array.of(0x50));
    p.push(Uint8Array.of(0x4b));
    p.push(Uint8Array.of(0x03));
    assert.throws(() => p.push(Uint8Array.of(0x04)), CaptureFormatError);
  });
});

describe('pcapng', () => {
  function sample(littleEndian: boolean): Uint8Array {
    return new PcapngWriter()
      .section(littleEndian)
      .iface({ linkType: 1, snaplen: 65535 })
      .iface({ linkType: 101, tsresol: 9, tsoffset: 1000 })
      .epb(0, { ts: 1700000000.25, data: enc.encode('eth frame') })
      .block(0x12345, enc.encode('an unknown block type'))
      .epb(1, { ts: 1.000000123, data: enc.encode('raw'), origLen: 99 })
      .spb(enc.encode('simple'))
      .opb(1, { ts: 1700000003, data: enc.encode('obsolete') })
      .bytes();
  }

  for (const littleEndian of [true, false]) {
    test(`${littleEndian ? 'little' : 'big'}-endian section: EPB, SPB, OPB, two interfaces, unknown blocks`, () => {
      const file = sample(littleEndian);
      const { frames, summary } = parse(file);
      assert.deepEqual(summary, { format: 'pcapng', frames: 4, bytes: file.length, linkTypes: [1, 101] });
      assert.deepEqual(
        frames.map((f) => [text(f.data), f.linkType, f.interfaceId, f.origLen]),
        [
          ['eth frame', 1, 0, 9],
          ['raw', 101, 1, 99],
          ['simple', 1, 0, 6],
          ['obsolete', 101, 1, 8],
        ],
      );
      assert.equal(frames[0]!.ts, 1700000000.25);
      // if_tsresol 9 (ns) and if_tsoffset 1000 s on interface 1.
      assert.ok(Math.abs(frames[1]!.ts - 1001.000000123) < 1e-12, String(frames[1]!.ts));
      // The SPB has no timestamp: it takes the last one seen.
      assert.equal(frames[2]!.ts, frames[1]!.ts);
      assert.ok(Math.abs(frames[3]!.ts - 1700001003) < 1e-6);
    });
  }

  test('power-of-two timestamp resolution', () => {
    const file = new PcapngWriter()
      .section()
      .iface({ linkType: 101, tsresol: 0x80 | 10 })
      .epb(0, { ts: 12.5, data: enc.encode('x') })
      .bytes();
    assert.equal(parse(file).frames[0]!.ts, 12.5);
  });

  test('SPB data is limited by the interface snaplen and by the block', () => {
    const file = new PcapngWriter()
      .section()
      .iface({ linkType: 101, snaplen: 4 })
      .spb(enc.encode('abcdefgh'), 1000)
      .bytes();
    const f = parse(file).frames[0]!;
    assert.equal(text(f.data), 'abcd');
    assert.equal(f.origLen, 1000);
  });

  test('a new section may change byte order and starts its own interface numbering', () => {
    const first = new PcapngWriter()
      .section(true)
      .iface({ linkType: 1 })
      .epb(0, { ts: 1, data: enc.encode('a') });
    const second = new PcapngWriter()
      .section(false)
      .iface({ linkType: 276 })
      .epb(0, { ts: 2, data: enc.encode('b') })
      .bytes();
    const { frames, summary } = parse(concat([first.bytes(), second]), [13]);
    assert.deepEqual(
      frames.map((f) => [text(f.data), f.linkType, f.ts]),
      [
        ['a', 1, 1],
        ['b', 276, 2],
      ],
    );
    assert.deepEqual(summary.linkTypes, [1, 276]);
  });

  test("custom blocks (PCAPdroid's 0x00000BAD) are skipped, or handed to the callback", () => {
    const file = new PcapngWriter()
      .section()
      .iface({ linkType: 101 })
      .custom(62652, enc.encode('uid map'))
      .epb(0, { ts: 1, data: enc.encode('p') })
      .bytes();
    assert.equal(parse(file).summary.frames, 1);
    const got: CustomBlock[] = [];
    parse(file, [3], (b) => got.push({ ...b, data: b.data.slice() }));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.pen, 62652);
    assert.equal(got[0]!.type, 0xbad);
    assert.equal(text(got[0]!.data).replace(/\0+$/, ''), 'uid map');
  });

  test('split in every chunk size, and cut mid-block', () => {
    const file = sample(true);
    const whole = parse(file).frames;
    for (const sizes of [[1], [3, 5], [12], [31]]) assert.deepEqual(parse(file, sizes).frames, whole);
    const { frames, summary } = parse(file.subarray(0, file.length - 6), [9]);
    assert.equal(frames.length, 3);
    assert.match(summary.truncated?.message ?? '', /inside a block/);
  });

  test('nonsense blocks stop the reading, or are skipped when their framing holds', () => {
    const good = new PcapngWriter().section().iface({ linkType: 1 }).bytes();
    const epb = new PcapngWriter()
      .section()
      .iface({ linkType: 1 })
      .epb(0, { ts: 1, data: enc.encode('abc') })
      .bytes();
    const epbAt = good.length;
    const badLen = epb.slice();
    badLen[epbAt + 4] = 0x2a; // total length 42: not a multiple of 4
    // Framing that cannot be followed stops the reading at the block, after the section was read.
    const stop = parse(badLen).summary;
    assert.equal(stop.frames, 0);
    assert.equal(stop.truncated?.offset, epbAt);
    assert.equal(stop.truncated?.corrupt, true);
    assert.match(stop.truncated!.message, /impossible length 42/);
    const badTrailer = epb.slice();
    badTrailer[badTrailer.length - 4] = 0x7c;
    assert.match(parse(badTrailer).summary.truncated?.message ?? '', /ends with a length different/);
    // A block whose framing holds but whose content does not is skipped, and the reading goes on.
    const badIface = new PcapngWriter()
      .section()
      .iface({ linkType: 1 })
      .epb(7, { ts: 1, data: enc.encode('lost') })
      .epb(0, { ts: 2, data: enc.encode('kept') })
      .bytes();
    const { frames, summary: skipped } = parse(badIface);
    assert.deepEqual(
      frames.map((f) => text(f.data)),
      ['kept'],
    );
    assert.equal(skipped.truncated, undefined);
    assert.deepEqual(skipped.damaged, {
      count: 1,
      offset: epbAt,
      message: 'pcapng packet block names interface 7 but the section has 1',
    });
    // The first section header is the file's own: wrong there, it is not a capture.
    const badBom = good.slice();
    badBom[8] = 0;
    assert.throws(
      () => parse(badBom),
      (e) => e instanceof CaptureFormatError && e.offset === 8,
    );
  });
});

test('readCapture reads an async stream of chunks', async () => {
  const file = pcapFile({ linkType: 101 }, frames3());
  async function* chunks() {
    for (let i = 0; i < file.length; i += 10) yield file.subarray(i, i + 10);
  }
  const got: string[] = [];
  const summary = await readCapture(chunks(), (f) => got.push(text(f.data)));
  assert.deepEqual(got, ['first frame', 'second, cut by snaplen', '3']);
  assert.equal(summary.frames, 3);
});

test('corrupted files either parse or fail with CaptureFormatError, never another error', () => {
  const sources = [
    pcapFile({ linkType: 1 }, frames3()),
    new PcapngWriter()
      .section(true)
      .iface({ linkType: 1, tsresol: 9, tsoffset: 5 })
      .epb(0, { ts: 1, data: enc.encode('abcdefgh') })
      .spb(enc.encode('xyz'))
      .opb(0, { ts: 2, data: enc.encode('q') })
      .custom(62652, enc.encode('m'))
      .bytes(),
  ];
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let formatErrors = 0;
  for (let i = 0; i < 4000; i++) {
    const bytes = sources[i % 2]!.slice();
    for (let k = 1 + rnd(4); k > 0; k--) bytes[rnd(bytes.length)] = rnd(256);
    const cut = rnd(3) === 0 ? rnd(bytes.length) : bytes.length;
    try {
      parse(bytes.subarray(0, cut), [1 + rnd(40)]);
    } catch (e) {
      assert.ok(e instanceof CaptureFormatError, `iteration ${i}: ${e}`);
      formatErrors++;
    }
  }
  assert.ok(formatErrors > 0);
});
