/**
 * The simulated PCAPdroid (com.emanuelef.remote_capture) answering its CaptureCtrl activity:
 *   am start -n com.emanuelef.remote_capture/.activities.CaptureCtrl -e action start|stop|get_status
 *     -e api_key KEY -e pcap_dump_mode pcap_file -e pcap_name NAME -e dump_extensions true …
 *
 * Without the profile's API key, the consent dialog comes up instead: the foreground activity becomes
 * CaptureCtrl (its dialog, visible in `uiautomator dump` and `dumpsys window`) and nothing starts until
 * someone taps Allow (`input tap` on the button), which then carries out the request; Deny or BACK drop it.
 *
 * Results: the real app returns them as an activity result, which an adb client cannot read. The
 * simulated one writes each result as one logcat line, tag "PCAPdroid", priority I:
 *   CaptureCtrl result: action=get_status running=true version_name=1.8.6 version_code=84 bytes_sent=0 …
 *   CaptureCtrl result: action=start error=consent_required        (no key: the dialog is showing)
 * Read them with `adb logcat -d -s PCAPdroid:I`. The API key is never logged.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandContext } from './command.js';
import type { IntentArgs } from './intent-args.js';

/** PCAPdroid's package. */
export const PCAPDROID_PACKAGE = 'com.emanuelef.remote_capture';
/** The activity that takes control intents. */
export const CAPTURE_CTRL = `${PCAPDROID_PACKAGE}/${PCAPDROID_PACKAGE}.activities.CaptureCtrl`;

/** PCAPdroid's capture (VPN) service. */
export const CAPTURE_SERVICE = `${PCAPDROID_PACKAGE}/.CaptureService`;

/** Where pcap_file dumps go (shared storage Download/PCAPdroid/). */
export function pcapdroidDumpPath(name: string): string {
  return `/sdcard/Download/PCAPdroid/${name}`;
}

function result(c: CommandContext, fields: Record<string, string | number | boolean>): void {
  const pid = c.phone.state.apps.processes.get(PCAPDROID_PACKAGE)?.pid ?? 0;
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  c.phone.state.logLine(4, 'PCAPdroid', `CaptureCtrl result: ${text}`, pid);
}

function statusFields(c: CommandContext): Record<string, string | number | boolean> {
  const p = c.phone.state.apps.packages.get(PCAPDROID_PACKAGE);
  const s = c.phone.state.pcapdroid;
  return {
    version_name: p?.versionName ?? '',
    version_code: p?.versionCode ?? 0,
    running: s.running,
    bytes_sent: 0,
    bytes_rcvd: 0,
    bytes_dumped: 0,
    pkts_sent: s.running ? 0 : (s.lastPackets ?? 0),
    pkts_rcvd: 0,
    pkts_dropped: 0,
  };
}

/** Stops a running capture (also on am force-stop of PCAPdroid); returns the packets written. */
export async function stopPcapdroid(c: Pick<CommandContext, 'phone'>): Promise<number | undefined> {
  const s = c.phone.state.pcapdroid;
  if (!s.running) return undefined;
  const handle = c.phone.pcapCapture;
  c.phone.pcapCapture = undefined;
  s.running = false;
  c.phone.state.apps.services.delete(CAPTURE_SERVICE);
  let packets = 0;
  if (handle) {
    try {
      packets = (await handle.stop()).packets;
    } catch (e) {
      c.phone.state.logLine(6, 'PCAPdroid', `stopping the capture failed: ${(e as Error).message}`);
    }
  }
  s.lastPackets = packets;
  c.phone.state.emitChange('pcapdroid');
  return packets;
}

/** The request waiting behind the consent dialog, per phone. */
const pending = new WeakMap<object, IntentArgs>();

/** The user answered the consent dialog: Allow carries out the waiting request, Deny drops it. */
export async function answerConsent(c: CommandContext, allow: boolean): Promise<void> {
  const state = c.phone.state;
  const intent = pending.get(c.phone);
  pending.delete(c.phone);
  state.pcapdroid.consentPending = false;
  state.logLine(
    4,
    'PCAPdroid',
    `CaptureCtrl result: consent=${allow ? 'allowed' : 'denied'}`,
    state.apps.processes.get(PCAPDROID_PACKAGE)?.pid ?? 0,
  );
  state.apps.goHome();
  if (allow && intent) await captureCtrl(c, intent, true);
}

/**
 * Handles a CaptureCtrl intent. Output to the am client is the usual "Starting: Intent …" (done by am).
 * `consented`: the user allowed this very request in the dialog.
 */
export async function captureCtrl(c: CommandContext, intent: IntentArgs, consented = false): Promise<void> {
  const state = c.phone.state;
  const action = intent.extras.get('action') ?? '';
  const key = state.profile.pcapdroid?.apiKey;
  state.apps.startProcess(PCAPDROID_PACKAGE);
  if (!consented && (!key || intent.extras.get('api_key') !== key)) {
    // The user must allow the control: a dialog, and nothing happens until someone taps it.
    pending.set(c.phone, intent);
    state.pcapdroid.consentPending = true;
    state.apps.setForeground(CAPTURE_CTRL);
    state.emitChange('pcapdroid');
    result(c, { action, error: 'consent_required' });
    return;
  }
  state.pcapdroid.consentPending = false;
  if (action === 'get_status') {
    result(c, { action, ...statusFields(c) });
    return;
  }
  if (action === 'stop') {
    await stopPcapdroid(c);
    result(c, { action, ...statusFields(c) });
    return;
  }
  if (action !== 'start') {
    result(c, { action, error: 'unknown_action' });
    return;
  }
  if (state.pcapdroid.running) {
    result(c, { action, error: 'already_running' });
    return;
  }
  const mode = intent.extras.get('pcap_dump_mode') ?? 'none';
  const name = intent.extras.get('pcap_name') ?? 'PCAPdroid.pcap';
  const extensions =
    (intent.extras.get('dump_extensions') ?? intent.extras.get('pcapdroid_trailer')) === 'true';
  state.pcapdroid.running = true;
  state.pcapdroid.startedAt = state.now();
  // The real app captures in its VPN service: `dumpsys activity services` shows it while it runs.
  state.apps.services.set(CAPTURE_SERVICE, { component: CAPTURE_SERVICE, foreground: true });
  delete state.pcapdroid.file;
  if (mode === 'pcap_file') {
    const phonePath = pcapdroidDumpPath(name);
    const host = c.phone.hostPath(phonePath);
    state.pcapdroid.file = phonePath;
    if (host && c.phone.net) {
      mkdirSync(dirname(host), { recursive: true });
      try {
        c.phone.pcapCapture = await c.phone.net.startOnPhoneCapture(host, {
          extensions,
          appUids: state.apps.uids(),
        });
      } catch (e) {
        state.pcapdroid.running = false;
        state.apps.services.delete(CAPTURE_SERVICE);
        state.logLine(6, 'PCAPdroid', `VPN start failed: ${(e as Error).message}`);
        result(c, { action, error: 'start_failed' });
        state.emitChange('pcapdroid');
        return;
      }
    } else if (!c.phone.net) {
      state.logLine(5, 'PCAPdroid', 'no network: the capture runs but sees no traffic');
    }
  } else if (mode !== 'none') {
    state.logLine(5, 'PCAPdroid', `pcap_dump_mode ${mode} is not simulated: capturing without a dump`);
  }
  state.emitChange('pcapdroid');
  result(c, { action, ...statusFields(c) });
}
