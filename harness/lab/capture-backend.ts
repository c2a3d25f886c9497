/**
 * How a run records a phone's traffic: tcpdump or libpcap (cap) on the lab's interface, or PCAPdroid on
 * the phone. The lab's settings choose; the run pipeline only sees its Capture interface.
 */
import { CapCapture } from '../capture/cap-capture.js';
import { PcapdroidCapture } from '../capture/pcapdroid-capture.js';
import { TcpdumpCapture } from '../capture/tcpdump-capture.js';
import type { AdbClient } from '../device/adb.js';
import type { DeviceProfile } from '../device/profiles.js';
import { UsageError } from '../errors.js';
import type { CaptureBackend } from '../run/capture.js';
import type { SuitePhone } from '../run/suite.js';

/** How captures are made. */
export interface CaptureConfig {
  backend: 'tcpdump' | 'cap' | 'pcapdroid';
  /** Default interface for phones that bring none. */
  interface?: string;
  /** Bytes kept of each packet by tcpdump (0 or unset: whole packets). */
  snaplen?: number;
}

/** The suite's captureFor: the configured backend for one phone. Throws UsageError when it cannot be had. */
export function captureBackends(
  cfg: CaptureConfig,
  client: AdbClient,
  env: NodeJS.ProcessEnv = process.env,
): (phone: SuitePhone, _device: unknown, profile: DeviceProfile) => CaptureBackend {
  return (phone, _device, profile) => {
    if (cfg.backend === 'pcapdroid') {
      const name = profile.capture.pcapdroidApiKeyEnv;
      const key = name ? env[name] : undefined;
      if (!key)
        throw new UsageError(
          `pcapdroid capture needs PCAPdroid's api_key in $${name ?? 'PHONEHOME_PCAPDROID_API_KEY'}`,
        );
      return new PcapdroidCapture(client.device(phone.serial), { apiKey: key });
    }
    const iface = phone.captureInterface ?? profile.capture.interface ?? cfg.interface;
    if (!iface)
      throw new UsageError(
        `no capture interface for ${phone.serial}: give --interface (the lab access point's)`,
      );
    return cfg.backend === 'cap'
      ? new CapCapture({ interface: iface })
      : new TcpdumpCapture({ interface: iface, ...(cfg.snaplen ? { snaplen: cfg.snaplen } : {}) });
  };
}
