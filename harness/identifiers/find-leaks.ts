/**
 * The identifier search over a capture's flows: every place of every flow's bytes (places.ts), as the
 * stream collector hands each side on, is run through one automaton of every identifier's needles; a hit is a leak with its kind, the masked
 * value, the flow, the place, the encoding chain (containers undone around the needle's own), the
 * first time and how many times. Flows that could not be searched (encrypted; bytes over the cap or
 * never captured) are counted with their bytes.
 */
import { fingerprintId, maskId } from './mask.js';
import { MultiMatcher } from './matcher.js';
import { type Needle, type NeedleHit, needlesFor, outermostHits } from './needles.js';
import { dnsQuestionPlaces, httpRequestPlaces, type Place } from './places.js';
import type { IdKind } from './read-identifiers.js';
import type { CollectedFigures, SideBytes, SideSearch } from './stream-collector.js';

/** An identifier to look for. */
export interface SoughtIdentifier {
  kind: IdKind;
  value: string;
  slot?: number;
}

/** One identifier found in one place of one flow. */
export interface Leak {
  kind: IdKind | 'app-list';
  slot?: number;
  /** The value masked (`868…565`); for an app list, how many installed packages it names. */
  masked: string;
  /** Keyed fingerprint of the value, to compare runs without it. */
  fingerprint: string;
  flow: string;
  /** `URL query imei`, `header Cookie key uid`, `body JSON $.device.aid`, `DNS label 2`, `bytes client→server`. */
  place: string;
  /** How the value was encoded there, outermost first: `gzip(json(sha256(plain)))`. */
  encoding: string;
  /** Capture time of the first message it was in, seconds. */
  firstSeen: number;
  count: number;
}

/** The search's figures: what was searched and what could not be. */
export interface LeakSearch {
  leaks: Leak[];
  /** Identifiers sought, by kind, with their masked values. */
  sought: { kind: IdKind; slot?: number; masked: string; fingerprint: string }[];
  needles: number;
  searched: { flows: number; bytes: number };
  encrypted: { flows: number; bytes: number; tls: number; quic: number };
  /** Bytes not searched: past the per-side cap, or never captured. */
  notSearched: { flows: number; overCap: number; missing: number };
  /** Encrypted flows whose requests interception read and searched (their request bytes). */
  decrypted?: { flows: number; bytes: number };
}

/** An app list: this many of the phone's installed packages named in one place. */
const APP_LIST_MIN = 5;

function wrap(containers: string[], inner: string): string {
  return containers.reduceRight((acc, c) => `${c}(${acc})`, inner);
}

function timeAt(side: SideBytes, offset: number): number {
  let ts = side.markTimes[0] ?? 0;
  for (let i = 0; i < side.markOffsets.length; i++) {
    if (side.markOffsets[i]! > offset) break;
    ts = side.markTimes[i]!;
  }
  return ts;
}

/** What decoding an HTTP request could turn into a value not in its bytes as sent. */
const HIDING = /%|\\|content-encoding|transfer-encoding|content-length: *0*[1-9]/i;

/** True when a stream's bytes hold something that decoding could turn into an identifier. */
function mayHide(bytes: Buffer): boolean {
  return HIDING.test(bytes.toString('latin1'));
}

/**
 * The identifier search, fed by the stream collector as each flow's sides are complete: it keeps
 * the leaks found and nothing of the bytes. `result` adds the figures of what could not be searched.
 */
export class LeakScanner implements SideSearch {
  readonly #sought: SoughtIdentifier[];
  readonly #all: Needle[];
  readonly #matcher: MultiMatcher;
  readonly #masked: LeakSearch['sought'];
  readonly #needles: number;
  readonly #leaks = new Map<string, Leak>();
  readonly #decrypted = { flows: new Set<string>(), bytes: 0 };

  constructor(sought: SoughtIdentifier[], o: { key: string | Buffer; packages?: string[] }) {
    this.#sought = sought;
    const needles: Needle[] = needlesFor(sought);
    this.#needles = needles.length;
    // Package names, plain only, after the identifiers' needles: their id is sought.length + index.
    const packages = (o.packages ?? []).filter((p) => p.length >= 8);
    this.#all = [
      ...needles,
      ...packages.map((p, i) => ({ id: sought.length + i, encoding: 'plain', bytes: Buffer.from(p) })),
    ];
    this.#matcher = new MultiMatcher(this.#all.map((n) => n.bytes));
    this.#masked = sought.map((s) => ({
      kind: s.kind,
      ...(s.slot !== undefined ? { slot: s.slot } : {}),
      masked: maskId(s.value),
      fingerprint: fingerprintId(o.key, s.value),
    }));
  }

  stream(uid: string, side: SideBytes, client: boolean): void {
    const dir = client ? 'client→server' : 'server→client';
    const raw: Place = { where: `bytes ${dir}`, bytes: side.bytes, containers: [], offset: 0 };
    const timeOf = (offset: number) => timeAt(side, offset);
    if (!client) {
      this.#scan(uid, [raw], timeOf);
      return;
    }
    // A client's HTTP requests are cut into places only when something may be in them: a value in
    // the bytes as sent, or something that decoding could bring out (URL or JSON escapes, a
    // Content- or Transfer-Encoding, a body). Most requests of a capture hold neither: one pass.
    if (!this.#anyHit(side.bytes) && !mayHide(side.bytes)) return;
    this.#scan(uid, httpRequestPlaces(side.bytes) ?? [raw], timeOf);
  }

  /**
   * One request read inside a flow's TLS by interception (rebuilt as HTTP/1.1 bytes): its places
   * searched like a plain request's, each named `inside TLS (HTTP/2.0): …`.
   */
  decrypted(uid: string, request: Buffer, ts: number, httpVersion: string): void {
    this.#decrypted.flows.add(uid);
    this.#decrypted.bytes += request.length;
    const places = httpRequestPlaces(request) ?? [
      { where: 'bytes client→server', bytes: request, containers: [], offset: 0 },
    ];
    this.#scan(uid, places, () => ts, `inside TLS (${httpVersion}): `);
  }

  /** True when a needle occurs in the bytes. */
  #anyHit(bytes: Buffer): boolean {
    let hit = false;
    this.#matcher.search(bytes, () => {
      hit = true;
    });
    return hit;
  }

  datagram(
    uid: string,
    d: Uint8Array,
    o: { client: boolean; dns: boolean; offset: number; ts: number },
  ): void {
    // A DNS answer repeats the question: only what the phone asked is what it sent.
    if (o.dns) {
      if (o.client) this.#scan(uid, dnsQuestionPlaces(d, o.offset), () => o.ts);
      return;
    }
    const dir = o.client ? 'client→server' : 'server→client';
    this.#scan(uid, [{ where: `datagram ${dir}`, bytes: d, containers: [], offset: o.offset }], () => o.ts);
  }

  #add(leak: Omit<Leak, 'count'>): void {
    const k = `${leak.kind}\0${leak.slot ?? ''}\0${leak.fingerprint}\0${leak.flow}\0${leak.place}\0${leak.encoding}`;
    const had = this.#leaks.get(k);
    if (had) {
      had.count += 1;
      had.firstSeen = Math.min(had.firstSeen, leak.firstSeen);
    } else this.#leaks.set(k, { ...leak, count: 1 });
  }

  /** The places of one side (or one datagram) of a flow, through the automaton. */
  #scan(uid: string, places: Place[], timeOf: (offset: number) => number, prefix = ''): void {
    const all = this.#all;
    const sought = this.#sought;
    // A place read twice (as sent and URL-decoded) reports an identifier once, as sent if found so.
    const seenAt = new Map<string, Set<number>>();
    for (const place of places) {
      const hits: NeedleHit[] = [];
      this.#matcher.search(place.bytes, (m) =>
        hits.push({ needle: m.needle, start: m.start, end: m.start + all[m.needle]!.bytes.length }),
      );
      if (hits.length === 0) continue;
      // A body's parts and the whole body share one record of what was found in them.
      const placeKey = `${place.where === 'body' || place.where.startsWith('body ') ? 'body' : place.where}\0${place.offset}`;
      const seen = seenAt.get(placeKey) ?? new Set<number>();
      seenAt.set(placeKey, seen);
      const ts = timeOf(place.offset);
      const apps = new Set<number>();
      const idsHere = new Set<number>();
      for (const h of outermostHits(hits, all)) {
        const n = all[h.needle]!;
        if (n.id >= sought.length) {
          apps.add(n.id);
          continue;
        }
        if (seen.has(n.id)) continue;
        idsHere.add(n.id);
        const s = sought[n.id]!;
        this.#add({
          kind: s.kind,
          ...(s.slot !== undefined ? { slot: s.slot } : {}),
          masked: this.#masked[n.id]!.masked,
          fingerprint: this.#masked[n.id]!.fingerprint,
          flow: uid,
          place: prefix + place.where,
          encoding: wrap(place.containers, n.encoding),
          firstSeen: ts,
        });
      }
      for (const id of idsHere) seen.add(id);
      if (apps.size >= APP_LIST_MIN && !seen.has(-1)) {
        seen.add(-1);
        this.#add({
          kind: 'app-list',
          masked: `${apps.size} installed packages`,
          fingerprint: '',
          flow: uid,
          place: prefix + place.where,
          encoding: wrap(place.containers, 'plain'),
          firstSeen: ts,
        });
      }
    }
  }

  /**
   * The search's result, once the flow table has handed out every flow (and so the collector every
   * side): the leaks, and the collector's figures of what was searched and what could not be.
   */
  result(figures: CollectedFigures): LeakSearch {
    const result: LeakSearch = {
      leaks: [],
      sought: this.#masked,
      needles: this.#needles,
      searched: { ...figures.searched },
      encrypted: { ...figures.encrypted },
      notSearched: { ...figures.notSearched },
      ...(this.#decrypted.flows.size > 0
        ? { decrypted: { flows: this.#decrypted.flows.size, bytes: this.#decrypted.bytes } }
        : {}),
    };
    // In time order; at one moment in one flow, in the order the search met them (a request's URL
    // before its headers before its body).
    result.leaks = [...this.#leaks.values()].sort(
      (a, b) => a.firstSeen - b.firstSeen || a.flow.localeCompare(b.flow),
    );
    return result;
  }
}
