/**
 * Capture on the phone itself with PCAPdroid (no root, no lab access point), controlled over adb
 * through its CaptureCtrl intent API: pcap_file mode with a unique pcap_name and the per-packet app
 * trailer, then the file is pulled over adb sync. The api_key comes from the device configuration and
 * is never logged or put in an error message.
 */
import { writeFile } from 'node:fs/promises';
import { type OpOptions, sleep } from '../deadline.js';
import type { AdbDevice } from '../device/adb.js';
import { AdbCommandError, CaptureError } from '../errors.js';
import type { CaptureBackend, CaptureSession, CaptureStats } from '../run/capture.js';

const PACKAGE = 'com.emanuelef.remote_capture';
const CAPTURE_CTRL = `${PACKAGE}/.activities.CaptureCtrl`;
const API_KEY = /^[A-Za-z0-9._-]{1,200}$/;
const PCAP_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Counts the records of a classic pcap file (either byte order). */
export function countPcapRecords(pcap: Buffer): number {
  if (pcap.length < 24) return 0;
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) return 0;
  let n = 0;
  for (let off = 24; off + 16 <= pcap.length; n++) {
    const caplen = le ? pcap.readUInt32LE(off + 8) : pcap.readUInt32BE(off + 8);
    off += 16 + caplen;
    if (off > pcap.length) break;
  }
  return n;
}

/** One adb call's own deadline, cancelled with the caller's signal. */
function op(deadlineMs: number, signal: AbortSignal | undefined): OpOptions {
  return signal ? { deadlineMs, signal } : { deadlineMs };
}

/** PCAPdroid on the phone. */
export class PcapdroidCapture implements CaptureBackend {
  readonly name = 'pcapdroid';

  constructor(
    readonly device: AdbDevice,
    readonly options: {
      /** PCAPdroid's api_key ("Control permissions" in its settings); without it the phone asks for consent. */
      apiKey: string;
      /** Only these packages (PCAPdroid's app_filter). */
      appFilter?: string[];
    },
  ) {
    if (!API_KEY.test(options.apiKey))
      throw new CaptureError(this.name, 'the PCAPdroid api_key has characters it cannot have');
  }

  /** Runs a CaptureCtrl action; the command carries the key, so failures are reported without it. */
  async #control(action: 'start' | 'stop', extras: string[], signal: AbortSignal | undefined): Promise<void> {
    const cmd = `am start -n ${CAPTURE_CTRL} -e action ${action} -e api_key ${this.options.apiKey} ${extras.join(' ')}`;
    let r: Awaited<ReturnType<AdbDevice['shell']>>;
    try {
      r = await this.device.shell(cmd, op(15_000, signal));
    } catch (err) {
      if (err instanceof AdbCommandError) {
        throw new CaptureError(this.name, `am start CaptureCtrl (action ${action}) failed: ${err.stderr}`);
      }
      throw err;
    }
    const out = r.output.toString();
    if (r.exitCode !== 0 || /^Error:/m.test(out)) {
      const why = out.split('\n').find((l) => l.startsWith('Error')) ?? `exit ${r.exitCode}`;
      throw new CaptureError(this.name, `PCAPdroid did not take the ${action} request: ${why}`);
    }
  }

  /** True while PCAPdroid's capture service runs. */
  async #running(signal: AbortSignal | undefined): Promise<boolean> {
    const r = await this.device.shell(`dumpsys activity services ${PACKAGE}`, op(10_000, signal));
    return /CaptureService/.test(r.output.toString());
  }

  async start(opts: OpOptions & { file: string }): Promise<CaptureSession> {
    const installed = await this.device.shell(`pm list packages ${PACKAGE}`, op(10_000, opts.signal));
    if (!new RegExp(`^package:${PACKAGE.replace(/\./g, '\\.')}$`, 'm').test(installed.output.toString())) {
      throw new CaptureError(
        this.name,
        'PCAPdroid (com.emanuelef.remote_capture) is not installed on the phone',
      );
    }
    const name = `phonehome-${Date.now()}-${process.pid}.pcap`;
    if (!PCAP_NAME.test(name)) throw new CaptureError(this.name, 'bad pcap name');
    const filters = (this.options.appFilter ?? []).filter((p) => /^[A-Za-z0-9_.]+$/.test(p));
    await this.#control(
      'start',
      [
        '-e pcap_dump_mode pcap_file',
        `-e pcap_name ${name}`,
        '-e dump_extensions true',
        ...(filters.length ? [`-e app_filter ${filters.join(',')}`] : []),
      ],
      opts.signal,
    );
    const until = Date.now() + (opts.deadlineMs ?? 10_000);
    while (!(await this.#running(opts.signal))) {
      if (Date.now() > until) {
        const win = (await this.device.shell('dumpsys window', op(10_000, opts.signal))).output.toString();
        if (new RegExp(`mCurrentFocus.*${PACKAGE.replace(/\./g, '\\.')}`).test(win)) {
          throw new CaptureError(
            this.name,
            'PCAPdroid is showing its consent prompt: the api_key is wrong or not set; create one in PCAPdroid → Settings → Control permissions and put it in the device configuration',
          );
        }
        throw new CaptureError(this.name, 'PCAPdroid did not start capturing');
      }
      await sleep(300, opts.signal);
    }
    const remote = `/sdcard/Download/PCAPdroid/${name}`;
    const listeners: ((c: Uint8Array) => void)[] = [];
    return {
      file: opts.file,
      onBytes: (l) => {
        listeners.push(l);
      },
      stop: async (o = {}): Promise<CaptureStats> => {
        await this.#control('stop', [], o.signal);
        const stopBy = Date.now() + (o.deadlineMs ?? 10_000);
        while ((await this.#running(o.signal)) && Date.now() < stopBy) await sleep(300, o.signal);
        const pcap = await this.device.pull(remote, op(60_000, o.signal));
        await writeFile(opts.file, pcap);
        for (const l of listeners) l(pcap);
        const packets = countPcapRecords(pcap);
        if (pcap.length < 24) throw new CaptureError(this.name, `PCAPdroid wrote an empty dump (${remote})`);
        return {
          packets,
          dropped: 'unknown',
          bytes: pcap.length,
          notes: [`pulled ${remote} from the phone`, 'PCAPdroid in VPN mode reports no drop counts'],
        };
      },
    };
  }
}
