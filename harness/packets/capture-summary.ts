/** What one capture stream held, returned when it ends. */
export interface CaptureSummary {
  /** File format, from the first bytes of the stream. */
  format: 'pcap' | 'pcapng';
  /** Frames delivered to the callback. */
  frames: number;
  /** Bytes of the stream consumed, headers included (the file size when the whole file was read). */
  bytes: number;
  /** The distinct link types of the capture's interfaces, in order of first appearance. */
  linkTypes: number[];
  /**
   * Set when the stream could not be read to its end: it ended inside a record (cut short), or a
   * record's or block's framing is corrupt (`corrupt`), so nothing after it can be found. Where that
   * record began and why; the frames before it were delivered.
   */
  truncated?: { offset: number; message: string; corrupt?: true };
  /**
   * pcapng blocks whose framing was intact but whose content was not (a packet block longer than its
   * block, an unknown interface, a block too short for its type): skipped, and the reading went on.
   */
  damaged?: { count: number; offset: number; message: string };
}

/** A pcapng Custom Block (PCAPdroid writes its uid-to-app table in one, PEN 62652). */
export interface CustomBlock {
  /** Block type: 0x00000BAD (may be copied to other files) or 0x40000BAD (must not be). */
  type: number;
  /** IANA Private Enterprise Number of the block's owner. */
  pen: number;
  /** Custom data and options after the PEN, as written. A view: copy what you keep. */
  data: Uint8Array;
  /** Byte offset of the block in the stream. */
  offset: number;
}

/** Optional hooks of a CaptureParser. */
export interface CaptureParserOptions {
  /** Receives each pcapng Custom Block; without it they are skipped like other unknown blocks. */
  onCustomBlock?: (block: CustomBlock) => void;
}
