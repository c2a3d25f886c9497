/**
 * A sorted table of address ranges as CSV, searched in place: lines `FIRST,LAST,VALUE…` with FIRST and
 * LAST as decimal numbers (the @ip-location-db "-num" files: IPv4 as 32-bit numbers, IPv6 as 128-bit
 * ones), sorted by FIRST and not overlapping. A lookup bisects the file by byte offset (about 25 reads
 * of one cached page for a 24 MB file), so nothing is loaded and the file's size costs no memory.
 * `check()` reads it whole once to prove the order a lookup relies on.
 */
import { PagedFile } from './paged-file.js';

/** A line of the table is not what it should be: the message names the file and where. */
export class RangeCsvError extends Error {
  override name = 'RangeCsvError';
}

/** One line: the range and the fields after FIRST and LAST. */
export interface RangeRow {
  first: string;
  last: string;
  fields: string[];
}

/** Bytes read per line; a longer line is read in more steps. */
const WINDOW = 256;
/** Below this many bytes the bisection stops and lines are read one by one. */
const SCAN = 1024;

export class RangeCsv {
  private readonly file: PagedFile;

  constructor(readonly path: string) {
    this.file = new PagedFile(path, 256);
  }

  /** The row whose range holds `key` (a decimal number as text, no leading zeros), if any. */
  find(key: string): RangeRow | undefined {
    const f = this.file;
    // Invariant: every line starting at or after `hi` begins above the key; the line at `lo` (if it
    // begins at or below the key) is the best so far.
    let lo = 0;
    let hi = f.size;
    while (hi - lo > SCAN) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const s = this.nextLineStart(mid);
      if (s >= hi) {
        hi = mid + 1;
        continue;
      }
      if (compareDecimal(this.firstAt(s), key) <= 0) lo = s;
      else hi = s;
    }
    let best: RangeRow | undefined;
    for (let at = lo; at < hi && at < f.size; ) {
      const { row, next } = this.line(at);
      if (compareDecimal(row.first, key) > 0) break;
      best = row;
      at = next;
    }
    return best && compareDecimal(key, best.last) <= 0 ? best : undefined;
  }

  /**
   * Reads every line: throws RangeCsvError at the first that is malformed, out of order, or nested
   * inside the range before it (a lookup after the nested one's end would miss the outer range). A
   * range that overlaps the one before it and ends after it is counted, not refused: in the overlap
   * the later line answers, and no address goes unanswered.
   */
  check(): { rows: number; overlaps: number } {
    let rows = 0;
    let overlaps = 0;
    let prev: RangeRow | undefined;
    for (let at = 0; at < this.file.size; ) {
      const { row, next } = this.line(at);
      rows++;
      if (compareDecimal(row.first, row.last) > 0)
        throw new RangeCsvError(
          `${this.path}:${rows}: the range ends (${row.last}) before it begins (${row.first})`,
        );
      if (prev && compareDecimal(row.first, prev.first) < 0)
        throw new RangeCsvError(
          `${this.path}:${rows}: the range ${row.first} begins before the line before (${prev.first}): not sorted`,
        );
      if (prev && compareDecimal(row.first, prev.last) <= 0) {
        if (compareDecimal(row.last, prev.last) < 0)
          throw new RangeCsvError(
            `${this.path}:${rows}: the range ${row.first}-${row.last} lies inside the line before (${prev.first}-${prev.last})`,
          );
        overlaps++;
      }
      prev = row;
      at = next;
    }
    return { rows, overlaps };
  }

  close(): void {
    this.file.close();
  }

  /** The decimal number a line begins with, read without decoding the rest of the line. */
  private firstAt(at: number): string {
    const chunk = this.file.bytes(at, Math.min(48, this.file.size - at));
    let end = 0;
    while (end < chunk.length && chunk[end]! >= 0x30 && chunk[end]! <= 0x39) end++;
    const text = String.fromCharCode(...chunk.subarray(0, end));
    if (end === 0 || end > 39 || chunk[end] !== 0x2c || !DECIMAL.test(text))
      throw new RangeCsvError(
        `${this.path}: the line at byte ${at} does not begin with a decimal number and a comma`,
      );
    return text;
  }

  private nextLineStart(pos: number): number {
    const f = this.file;
    while (pos < f.size) {
      const n = Math.min(WINDOW, f.size - pos);
      const chunk = f.bytes(pos, n);
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) return pos + nl + 1;
      pos += n;
    }
    return f.size;
  }

  /** The line starting at `at` and where the next one starts. */
  private line(at: number): { row: RangeRow; next: number } {
    const end = this.nextLineStart(at);
    let text = Buffer.from(this.file.bytes(at, end - at)).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const fields = splitCsv(text);
    const [first, last, ...rest] = fields;
    if (first === undefined || last === undefined || !DECIMAL.test(first) || !DECIMAL.test(last))
      throw new RangeCsvError(
        `${this.path}: the line at byte ${at} does not begin with two decimal numbers: ${JSON.stringify(text.slice(0, 80))}`,
      );
    return { row: { first, last, fields: rest }, next: end };
  }
}

const DECIMAL = /^(?:0|[1-9]\d{0,38})$/;

/** Compares two decimal numbers written without leading zeros. */
export function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The decimal number of an address given as 4 or 16 bytes. */
export function addressNumber(ip: Uint8Array): string {
  let v = 0n;
  for (const b of ip) v = (v << 8n) | BigInt(b);
  return v.toString();
}

/** One CSV line's fields: quoted fields may hold commas and doubled quotes. */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = line.length;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      const comma = line.indexOf(',', i);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
