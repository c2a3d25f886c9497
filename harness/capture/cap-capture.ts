/**
 * In-process capture through libpcap (the `cap` binding). It hands over packets without timestamps or
 * drop counts: packets are stamped on arrival and the drops are reported as unknown. The Node process
 * itself needs capture privileges for this backend.
 */

import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type OpOptions, sleep } from '../deadline.js';
import { CaptureError, errorMessage } from '../errors.js';
import { pcapHeader, pcapRecord } from '../packets/pcap-writer.js';
import type { CaptureBackend, CaptureSession, CaptureStats, CaptureTarget } from '../run/capture.js';
import { phoneFilter } from './bpf-filter.js';
import { ByteFanout } from './byte-fanout.js';
import { CaptureFile } from './capture-file.js';

const require = createRequire(import.meta.url);

/** The parts of the `cap` binding used here. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}

/** cap's link type names → LINKTYPE numbers. */
const LINK_TYPES: Record<string, number> = {
  ETHERNET: 1,
  NULL: 0,
  RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
};

const SNAPLEN = 65535;

/**
 * Closed handles are kept alive for the life of the process. cap's close() stops libuv's poll handle
 * without closing it; when the garbage collector later destroys the handle, libuv still lists that
 * memory, and the process crashes (seen as SIGSEGV some seconds after a capture stopped). A closed
 * handle costs a few hundred bytes.
 */
const retired: CapHandle[] = [];

export class CapCapture implements CaptureBackend {
  readonly name = 'cap';
  constructor(readonly options: { interface: string; bufferBytes?: number }) {}

  async start(opts: { file: string; target: CaptureTarget }): Promise<CaptureSession> {
    let Cap: new () => CapHandle;
    try {
      Cap = (require('cap') as { Cap: new () => CapHandle }).Cap;
    } catch (err) {
      throw new CaptureError(this.name, 'the cap module (libpcap binding) is not built', { cause: err });
    }
    const filter = phoneFilter(this.name, opts.target);
    const handle = new Cap();
    const buffer = Buffer.alloc(SNAPLEN);
    let linkName: string;
    try {
      linkName = handle.open(
        this.options.interface,
        filter,
        this.options.bufferBytes ?? 16 * 1024 * 1024,
        buffer,
      );
    } catch (err) {
      throw new CaptureError(this.name, `cannot capture on ${this.options.interface}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const linkType = LINK_TYPES[linkName];
    if (linkType === undefined) {
      handle.close();
      retired.push(handle);
      throw new CaptureError(this.name, `${this.options.interface}: unsupported link type ${linkName}`);
    }
    handle.setMinBytes?.(0);
    // A write that fails (the disk full) is reported by stop(); the capture stops, as nothing is recorded.
    let open = true;
    const closeHandle = () => {
      if (!open) return;
      open = false;
      handle.close();
      retired.push(handle);
    };
    const out = new CaptureFile(opts.file, closeHandle);
    const fanout = new ByteFanout();
    const header = pcapHeader({ linkType, snaplen: SNAPLEN });
    out.write(header);
    fanout.emit(header);
    let packets = 0;
    let truncatedPackets = 0;
    let lastPacketAt = 0;
    handle.on('packet', (nbytes, truncated) => {
      // The binding reports the captured length only: a truncated packet's wire length is unknown.
      if (truncated) truncatedPackets += 1;
      lastPacketAt = Date.now();
      const rec = pcapRecord(
        {},
        { ts: lastPacketAt / 1000, data: buffer.subarray(0, nbytes), origLen: nbytes },
      );
      packets += 1;
      out.write(rec);
      fanout.emit(rec);
    });
    const file = opts.file;
    const startedAt = Date.now();
    return {
      file,
      onBytes(listener) {
        if (!fanout.add(listener)) {
          throw new CaptureError('cap', 'a live listener came after the capture had started streaming');
        }
      },
      async stop(o: OpOptions = {}): Promise<CaptureStats> {
        // Packets reach JavaScript asynchronously: let the queue drain (quiet for 200 ms, at most 2 s,
        // or until the run is stopped).
        const until = Date.now() + Math.min(2000, o.deadlineMs ?? 2000);
        while (Date.now() < until && Date.now() - Math.max(lastPacketAt, startedAt) < 200) {
          if (o.signal?.aborted) break;
          await sleep(50);
        }
        closeHandle();
        await out.close();
        const failure = out.failure('cap');
        if (failure) throw failure;
        return {
          packets,
          dropped: 'unknown',
          bytes: (await stat(file)).size,
          notes: [
            'libpcap through cap gives no drop counts; packets are stamped on arrival',
            ...(truncatedPackets
              ? [`${truncatedPackets} packets were longer than ${SNAPLEN} bytes and cut`]
              : []),
          ],
        };
      },
    };
  }
}
