/**
 * screencap's picture: the screen's view tree painted as filled rectangles into an RGB buffer, and a
 * PNG encoder (signature, IHDR, IDAT with zlib, IEND, each chunk with its CRC-32) written by hand on
 * node:zlib.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { Rgb, UiNode } from './ui-node.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes 8-bit RGB pixels (width*height*3 bytes, rows top to bottom) as a PNG. */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  if (rgb.length !== width * height * 3)
    throw new Error(`expected ${width * height * 3} bytes of RGB, got ${rgb.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function fillRect(rgb: Buffer, width: number, height: number, rect: readonly number[], colour: Rgb): void {
  const l = Math.max(0, Math.floor(rect[0]!));
  const t = Math.max(0, Math.floor(rect[1]!));
  const r = Math.min(width, Math.ceil(rect[2]!));
  const b = Math.min(height, Math.ceil(rect[3]!));
  if (r <= l || b <= t) return;
  const pattern = Buffer.from(colour.map((v) => Math.max(0, Math.min(255, Math.round(v)))));
  for (let y = t; y < b; y++) rgb.fill(pattern, (y * width + l) * 3, (y * width + r) * 3);
}

/** Paints a view tree (or black for a screen that is off) into RGB pixels. */
export function paintScreen(tree: UiNode | undefined, width: number, height: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  const walk = (n: UiNode) => {
    if (n.fill) fillRect(rgb, width, height, n.bounds, n.fill);
    for (const c of n.children) walk(c);
  };
  if (tree) walk(tree);
  return rgb;
}
