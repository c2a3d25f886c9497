/**
 * Hands a capture's bytes to live listeners. Listeners usually subscribe just after the capture
 * started, when the file header has already gone by: the bytes before the first subscription are kept
 * (up to a bound) and replayed to it, so every listener sees a whole pcap stream from its header.
 */
const KEEP_LIMIT = 16 * 1024 * 1024;

export class ByteFanout {
  #listeners: ((chunk: Uint8Array) => void)[] = [];
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  /** True once the early bytes outgrew the bound without a listener: later listeners would see a cut stream. */
  #lost = false;

  /** Passes a chunk to every listener (or keeps it for the first one). */
  emit(chunk: Uint8Array): void {
    if (this.#listeners.length === 0 && !this.#lost) {
      this.#early.push(chunk);
      this.#earlyBytes += chunk.length;
      if (this.#earlyBytes > KEEP_LIMIT) {
        this.#early = [];
        this.#lost = true;
      }
      return;
    }
    // From now on a new listener would miss bytes: only the listeners present see the rest.
    this.#lost = true;
    this.#early = [];
    for (const l of this.#listeners) l(chunk);
  }

  /** Subscribes; returns false (and does not subscribe) when the stream's start is no longer available. */
  add(listener: (chunk: Uint8Array) => void): boolean {
    if (this.#lost) return false;
    for (const c of this.#early) listener(c);
    this.#listeners.push(listener);
    return true;
  }
}
