export interface PcapMagic {
  le: boolean;
  nano: boolean;
  modified: boolean;
}

/** Classic pcap magic numbers, read big-endian from the first four bytes. */
export function pcapMagic(m: number): PcapMagic | undefined {
  switch (m) {
    case 0xa1b2c3d4:
      return { le: false, nano: false, modified: false };
    case 0xd4c3b2a1:
      return { le: true, nano: false, modified: false };
    case 0xa1b23c4d:
      return { le: false, nano: true, modified: false };
    case 0x4d3cb2a1:
      return { le: true, nano: true, modified: false };
    case 0xa1b2cd34:
      return { le: false, nano: false, modified: true };
    case 0x34cdb2a1:
      return { le: true, nano: false, modified: true };
    default:
      return undefined;
  }
}
