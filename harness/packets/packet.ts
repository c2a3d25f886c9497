/**
 * The packet layer's plain data: what the capture reader yields (frames) and what the decoder makes
 * of them (packets). Everything downstream (flows, names, verdict) sees only these types.
 */

/** One record of a capture file, before any protocol decoding. */
export interface Frame {
  /** Capture timestamp, seconds since the Unix epoch (microsecond precision or better). */
  ts: number;
  /** The link type of the interface the frame was captured on (LINKTYPE_* numbers). */
  linkType: number;
  /** pcapng interface index, 0 for classic pcap. */
  interfaceId: number;
  /** The captured bytes (caplen of them). A view into a buffer that may be reused: copy what you keep. */
  data: Uint8Array;
  /** The frame's length on the wire; larger than data.length when the capture was truncated by snaplen. */
  origLen: number;
  /** 0-based index of this frame in the capture. */
  index: number;
  /** Byte offset of the record in the capture stream, for error messages. */
  offset: number;
}

/** Something the reader or decoder passed over, counted by kind, with the first place it happened. */
export interface Skipped {
  /** Short machine-readable reason, e.g. "ip-version-0", "udp-short-header", "unknown-linktype-147". */
  reason: string;
  /** How many frames were skipped for this reason. */
  count: number;
  /** Index of the first frame skipped for this reason. */
  firstFrame: number;
}

/** App attribution carried by PCAPdroid's per-packet trailer. */
export interface AppTag {
  /** Android app UID (-1 when unknown). */
  uid: number;
  /** App name as PCAPdroid wrote it (at most 20 bytes, may be truncated). */
  name: string;
  /** Package name, when the phone's package list maps the UID (filled in by the run pipeline). */
  package?: string;
}

/** A decoded IP packet (after fragment reassembly), with its transport header read. */
export interface Packet {
  /** Capture timestamp, seconds since the Unix epoch. */
  ts: number;
  /** Index of the frame this packet came from (the last fragment's frame when reassembled). */
  frame: number;
  /** IP version. */
  ipVersion: 4 | 6;
  /** Source address in canonical text form (IPv6 compressed, lower case). */
  src: string;
  /** Destination address in canonical text form. */
  dst: string;
  /** IANA protocol number of the transport (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …), after IPv6 extension headers. */
  proto: number;
  /** Bytes after the IP header(s) as the IP header declares them (not the captured count): what flows count. */
  ipPayloadLen: number;
  /** Source port (TCP/UDP), else 0. For ICMP: the type. */
  srcPort: number;
  /** Destination port (TCP/UDP), else 0. For ICMP: the code. */
  dstPort: number;
  /** TCP only: sequence number, acknowledgement number and flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  tcp?: { seq: number; ack: number; flags: number };
  /** Transport payload as captured (may be shorter than payloadLen when truncated). A view: copy what you keep. */
  payload: Uint8Array;
  /** Transport payload length as declared by the headers. */
  payloadLen: number;
  /** True when the capture holds fewer bytes of this packet than it had on the wire. */
  truncated: boolean;
  /** App attribution from a PCAPdroid trailer, when present. */
  app?: AppTag;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Thrown for input that is not a capture at all (bad magic); the CLI turns it into one line and exit 2. */
export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
  constructor(
    message: string,
    /** Byte offset where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
  }
}
