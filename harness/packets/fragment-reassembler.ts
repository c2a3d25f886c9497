/**
 * IP fragment reassembly (IPv4 and IPv6 alike) in bounded memory: at most `maxSets` datagrams and
 * `maxBytes` bytes are held, and a datagram still incomplete `timeoutSec` of capture time after its
 * first fragment is given up. Given-up datagrams are reported through the `onIncomplete` callback.
 */

/** Limits of a FragmentReassembler. */
export interface ReassemblyLimits {
  /** Datagrams held at once; the oldest is given up to make room. */
  maxSets: number;
  /** Fragment bytes held at once; the oldest datagrams are given up to make room. */
  maxBytes: number;
  /** Capture seconds after its first fragment arrived that a datagram may stay incomplete. */
  timeoutSec: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxSets: 1024,
  maxBytes: 8 * 1024 * 1024,
  timeoutSec: 60,
};

/** The largest datagram an IP header can describe. */
const MAX_DATAGRAM = 65535;

/** A datagram given up before all its fragments arrived. */
export interface IncompleteDatagram {
  /** Whether the fragment at offset 0 had arrived. */
  hadFirst: boolean;
  /** How many frames (fragments) were held. */
  frames: number;
  /** Index of the first of those frames. */
  firstFrame: number;
}

interface Piece {
  off: number;
  data: Uint8Array;
}

interface FragmentSet {
  firstTs: number;
  firstFrame: number;
  frames: number;
  bytes: number;
  /** Datagram payload length, known once the last fragment (more-fragments clear) arrived; else -1. */
  total: number;
  hadFirst: boolean;
  /** Next header of the first fragment (IPv6: the chain continues in the reassembled payload). */
  firstProto: number;
  pieces: Piece[];
}

/** A reassembled datagram payload. */
export interface Reassembled {
  /** The datagram's payload (after the IP header, or after the IPv6 fragment header). */
  payload: Uint8Array;
  /** Protocol / next header carried in the first fragment. */
  proto: number;
}

export class FragmentReassembler {
  private readonly sets = new Map<string, FragmentSet>();
  private heldBytes = 0;

  constructor(
    private readonly onIncomplete: (d: IncompleteDatagram) => void,
    private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS,
  ) {}

  /** Datagrams currently held. */
  get pending(): number {
    return this.sets.size;
  }

  /**
   * Adds one fragment (its bytes are copied). Returns the whole payload when this fragment completed
   * its datagram, undefined otherwise, or null when the fragment is impossible (beyond 64 KiB).
   */
  add(
    key: string,
    ts: number,
    frame: number,
    off: number,
    more: boolean,
    data: Uint8Array,
    proto: number,
  ): Reassembled | undefined | null {
    if (off + data.length > MAX_DATAGRAM) return null;
    this.expire(ts);
    let set = this.sets.get(key);
    if (!set) {
      while (this.sets.size >= this.limits.maxSets) this.giveUpOldest();
      set = {
        firstTs: ts,
        firstFrame: frame,
        frames: 0,
        bytes: 0,
        total: -1,
        hadFirst: false,
        firstProto: proto,
        pieces: [],
      };
      this.sets.set(key, set);
    }
    while (this.heldBytes + data.length > this.limits.maxBytes && this.sets.size > 1) {
      const oldest = this.sets.keys().next().value as string;
      if (oldest === key) break;
      this.giveUp(oldest);
    }
    set.frames++;
    set.bytes += data.length;
    this.heldBytes += data.length;
    set.pieces.push({ off, data: data.slice() });
    if (off === 0) {
      set.hadFirst = true;
      set.firstProto = proto;
    }
    if (!more) set.total = off + data.length;
    if (set.total < 0 || !set.hadFirst) return undefined;
    set.pieces.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const p of set.pieces) {
      if (p.off > covered) break;
      covered = Math.max(covered, p.off + p.data.length);
    }
    if (covered < set.total) return undefined;
    const payload = new Uint8Array(set.total);
    for (const p of set.pieces) {
      // Overlaps are allowed (the later offset wins); bytes past the last fragment's end are dropped.
      const room = set.total - p.off;
      if (room > 0) payload.set(room >= p.data.length ? p.data : p.data.subarray(0, room), p.off);
    }
    this.sets.delete(key);
    this.heldBytes -= set.bytes;
    return { payload, proto: set.firstProto };
  }

  /** Gives up every datagram still held (at the end of a capture). */
  flush(): void {
    for (const key of [...this.sets.keys()]) this.giveUp(key);
  }

  /** What flush() would report, without giving anything up. */
  peekIncomplete(): IncompleteDatagram[] {
    return [...this.sets.values()].map((s) => ({
      hadFirst: s.hadFirst,
      frames: s.frames,
      firstFrame: s.firstFrame,
    }));
  }

  private expire(now: number): void {
    for (const [key, set] of this.sets) {
      if (now - set.firstTs <= this.limits.timeoutSec) return;
      this.giveUp(key);
    }
  }

  private giveUpOldest(): void {
    const oldest = this.sets.keys().next().value as string;
    this.giveUp(oldest);
  }

  private giveUp(key: string): void {
    const set = this.sets.get(key)!;
    this.sets.delete(key);
    this.heldBytes -= set.bytes;
    this.onIncomplete({ hadFirst: set.hadFirst, frames: set.frames, firstFrame: set.firstFrame });
  }
}
