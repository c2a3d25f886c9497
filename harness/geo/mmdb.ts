/**
 * A reader of MaxMind DB files (the MMDB format, version 2: a binary search tree over address bits,
 * then a data section of typed values, then metadata), reading the file in place through PagedFile
 * rather than loading it: the city database is 60 MB per address family.
 *
 * Layout, as the format's specification gives it: the metadata is a map after the last
 * "\xAB\xCD\xEFMaxMind.com" marker in the file's final 128 KiB; the tree holds `node_count` nodes of
 * two records each (24, 28 or 32 bits a record); a record below node_count is the next node, equal to
 * it means "no data", above it points into the data section (which starts 16 zero bytes after the
 * tree). Data values start with a control byte: 3 bits of type (0: an extended type in the next byte),
 * 5 bits of size (29, 30 and 31 mean the size continues in 1, 2 or 3 more bytes); pointers (type 1)
 * pack their own size and value bits.
 */
import { PagedFile } from './paged-file.js';

/** An MMDB file is not what the format says: the message names the file and what is wrong. */
export class MmdbError extends Error {
  override name = 'MmdbError';
}

/** What an MMDB file says about itself. */
export interface MmdbMetadata {
  nodeCount: number;
  recordSize: 24 | 28 | 32;
  /** 4: IPv4 addresses only; 6: IPv6, with IPv4 at ::a.b.c.d when the database holds it. */
  ipVersion: 4 | 6;
  databaseType: string;
  /** When the file was built, seconds since the epoch. */
  buildEpoch: number;
  description: Record<string, string>;
  binaryFormatMajorVersion: number;
}

/** A value in the data section. */
export type MmdbValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | MmdbValue[]
  | { [key: string]: MmdbValue };

const MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const METADATA_WINDOW = 128 * 1024;
/** Deeper nesting than any database uses: a loop of pointers in a corrupt file ends here. */
const MAX_DEPTH = 64;

export class MmdbReader {
  readonly metadata: MmdbMetadata;
  private readonly file: PagedFile;
  private readonly nodeBytes: number;
  private readonly treeSize: number;
  private readonly dataStart: number;
  private ipv4Start = -1;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  /** Opens the file and reads its metadata; throws MmdbError when it is no MMDB file. */
  constructor(readonly path: string) {
    this.file = new PagedFile(path);
    try {
      this.metadata = this.readMetadata();
      const m = this.metadata;
      this.nodeBytes = (m.recordSize * 2) / 8;
      this.treeSize = m.nodeCount * this.nodeBytes;
      this.dataStart = this.treeSize + 16;
      if (this.dataStart > this.file.size)
        this.fail(`its search tree (${this.treeSize} bytes) is longer than the file`);
    } catch (err) {
      this.file.close();
      throw err;
    }
  }

  /**
   * The data for an address given as 4 or 16 bytes, with the length of the prefix that holds it
   * (counted in the address's own bits). `data` is undefined when the database has nothing for it,
   * and for an IPv6 address asked of an IPv4-only database.
   */
  lookup(ip: Uint8Array): { data: MmdbValue | undefined; prefixLength: number } {
    if (ip.length !== 4 && ip.length !== 16) throw new Error(`an address is 4 or 16 bytes, not ${ip.length}`);
    const m = this.metadata;
    if (ip.length === 16 && m.ipVersion === 4) return { data: undefined, prefixLength: 0 };
    let node = ip.length === 4 && m.ipVersion === 6 ? this.ipv4Root() : 0;
    const bits = ip.length * 8;
    let depth = 0;
    for (; depth < bits && node < m.nodeCount; depth++) {
      const bit = (ip[depth >> 3]! >> (7 - (depth & 7))) & 1;
      node = this.record(node, bit);
    }
    if (node === m.nodeCount) return { data: undefined, prefixLength: depth };
    if (node < m.nodeCount) this.fail(`its search tree is deeper than ${bits} bits`);
    const offset = node - m.nodeCount - 16;
    return { data: this.decode(this.dataStart + offset, this.dataStart, 0).value, prefixLength: depth };
  }

  close(): void {
    this.file.close();
  }

  private fail(what: string): never {
    throw new MmdbError(`${this.path}: not a valid MaxMind DB file: ${what}`);
  }

  /** The node IPv4 addresses start from in an IPv6 tree: 96 zero bits down from the root. */
  private ipv4Root(): number {
    if (this.ipv4Start < 0) {
      let node = 0;
      for (let i = 0; i < 96 && node < this.metadata.nodeCount; i++) node = this.record(node, 0);
      this.ipv4Start = node;
    }
    return this.ipv4Start;
  }

  private record(node: number, bit: number): number {
    const f = this.file;
    const o = node * this.nodeBytes;
    switch (this.metadata.recordSize) {
      case 24: {
        const at = bit === 0 ? o : o + 3;
        return (f.byte(at) << 16) | (f.byte(at + 1) << 8) | f.byte(at + 2);
      }
      case 28:
        return bit === 0
          ? (((f.byte(o + 3) & 0xf0) << 20) | (f.byte(o) << 16) | (f.byte(o + 1) << 8) | f.byte(o + 2)) >>> 0
          : (((f.byte(o + 3) & 0x0f) << 24) |
              (f.byte(o + 4) << 16) |
              (f.byte(o + 5) << 8) |
              f.byte(o + 6)) >>>
              0;
      default: {
        const at = bit === 0 ? o : o + 4;
        return ((f.byte(at) << 24) | (f.byte(at + 1) << 16) | (f.byte(at + 2) << 8) | f.byte(at + 3)) >>> 0;
      }
    }
  }

  private readMetadata(): MmdbMetadata {
    const size = this.file.size;
    const from = Math.max(0, size - METADATA_WINDOW);
    const tail = this.file.read(from, size - from);
    const at = tail.lastIndexOf(MARKER);
    if (at < 0) this.fail('no metadata marker in its last 128 KiB');
    const start = from + at + MARKER.length;
    const raw = this.decode(start, start, 0).value;
    if (!isMap(raw)) this.fail('its metadata is not a map');
    const num = (key: string): number => {
      const v = raw[key];
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
      return this.fail(`metadata field ${key} is missing or not a number`);
    };
    const recordSize = num('record_size');
    if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
      this.fail(`record_size ${recordSize} (expected 24, 28 or 32)`);
    const ipVersion = num('ip_version');
    if (ipVersion !== 4 && ipVersion !== 6) this.fail(`ip_version ${ipVersion} (expected 4 or 6)`);
    const major = num('binary_format_major_version');
    if (major !== 2) this.fail(`binary format version ${major} (this reader knows version 2)`);
    const description: Record<string, string> = {};
    const d = raw.description;
    if (isMap(d)) for (const [k, v] of Object.entries(d)) if (typeof v === 'string') description[k] = v;
    return {
      nodeCount: num('node_count'),
      recordSize,
      ipVersion,
      databaseType: typeof raw.database_type === 'string' ? raw.database_type : '',
      buildEpoch: num('build_epoch'),
      description,
      binaryFormatMajorVersion: major,
    };
  }

  /** The value at `pos`; pointers count from `base`. */
  private decode(pos: number, base: number, depth: number): { value: MmdbValue; next: number } {
    if (depth > MAX_DEPTH) this.fail(`values nest deeper than ${MAX_DEPTH} (a loop of pointers?)`);
    const f = this.file;
    const ctrl = f.byte(pos++);
    let type = ctrl >> 5;
    if (type === 1) {
      const ss = (ctrl >> 3) & 3;
      const v = ctrl & 7;
      let p: number;
      if (ss === 0) {
        p = (v << 8) | f.byte(pos);
        pos += 1;
      } else if (ss === 1) {
        p = ((v << 16) | (f.byte(pos) << 8) | f.byte(pos + 1)) + 2048;
        pos += 2;
      } else if (ss === 2) {
        p = ((v << 24) | (f.byte(pos) << 16) | (f.byte(pos + 1) << 8) | f.byte(pos + 2)) + 526336;
        pos += 3;
      } else {
        p = uint(f.bytes(pos, 4));
        pos += 4;
      }
      return { value: this.decode(base + p, base, depth + 1).value, next: pos };
    }
    if (type === 0) type = 7 + f.byte(pos++);
    let size = ctrl & 0x1f;
    if (size === 29) size = 29 + f.byte(pos++);
    else if (size === 30) {
      size = 285 + ((f.byte(pos) << 8) | f.byte(pos + 1));
      pos += 2;
    } else if (size === 31) {
      size = 65821 + ((f.byte(pos) << 16) | (f.byte(pos + 1) << 8) | f.byte(pos + 2));
      pos += 3;
    }
    switch (type) {
      case 2: {
        let text: string;
        try {
          text = this.utf8.decode(f.bytes(pos, size));
        } catch {
          return this.fail(`a string at byte ${pos} is not UTF-8`);
        }
        return { value: text, next: pos + size };
      }
      case 3:
        if (size !== 8) this.fail(`a double of ${size} bytes at byte ${pos}`);
        return { value: Buffer.from(f.bytes(pos, 8)).readDoubleBE(0), next: pos + 8 };
      case 4:
        return { value: Uint8Array.from(f.bytes(pos, size)), next: pos + size };
      case 5:
      case 6:
        if (size > (type === 5 ? 2 : 4)) this.fail(`an unsigned integer of ${size} bytes at byte ${pos}`);
        return { value: uint(f.bytes(pos, size)), next: pos + size };
      case 7: {
        const map: { [key: string]: MmdbValue } = {};
        for (let i = 0; i < size; i++) {
          const k = this.decode(pos, base, depth + 1);
          if (typeof k.value !== 'string') this.fail(`a map key at byte ${pos} is not a string`);
          const v = this.decode(k.next, base, depth + 1);
          map[k.value] = v.value;
          pos = v.next;
        }
        return { value: map, next: pos };
      }
      case 8: {
        if (size > 4) this.fail(`an int32 of ${size} bytes at byte ${pos}`);
        const u = uint(f.bytes(pos, size));
        return { value: size === 4 ? u | 0 : u, next: pos + size };
      }
      case 9:
      case 10: {
        if (size > (type === 9 ? 8 : 16)) this.fail(`an unsigned integer of ${size} bytes at byte ${pos}`);
        let big = 0n;
        for (const b of f.bytes(pos, size)) big = (big << 8n) | BigInt(b);
        return { value: big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big, next: pos + size };
      }
      case 11: {
        const list: MmdbValue[] = [];
        for (let i = 0; i < size; i++) {
          const v = this.decode(pos, base, depth + 1);
          list.push(v.value);
          pos = v.next;
        }
        return { value: list, next: pos };
      }
      case 14:
        return { value: size !== 0, next: pos };
      case 15:
        if (size !== 4) this.fail(`a float of ${size} bytes at byte ${pos}`);
        return { value: Buffer.from(f.bytes(pos, 4)).readFloatBE(0), next: pos + 4 };
      default:
        return this.fail(`unknown data type ${type} at byte ${pos - 1}`);
    }
  }
}

function uint(b: Uint8Array): number {
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

function isMap(v: MmdbValue | undefined): v is { [key: string]: MmdbValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
