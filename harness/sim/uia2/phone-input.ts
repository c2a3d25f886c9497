/**
 * Lets the on-phone server act on the screen the way the phone's own `input` command does (taps hit
 * the view under the point, key events go home/back/power), by running that command's handler
 * against the phone's state. The UiAutomator2 server injects events in-process on a real phone too.
 */
import { PassThrough } from 'node:stream';
import type { CommandContext, PhoneEnv } from '../phone/command.js';
import { writeTo } from '../phone/command.js';
import type { DeviceState } from '../phone/device-state.js';
import { inputCommands } from '../phone/input-commands.js';

/** Runs `input ARGS…` on the phone; resolves with its exit status and error output. */
export async function phoneInput(
  state: DeviceState,
  args: string[],
  signal: AbortSignal,
): Promise<{ code: number; stderr: string }> {
  // `input` reads only the state; the rest of the environment is there to satisfy the type.
  const phone: PhoneEnv = {
    state,
    rootDir: '/nonexistent',
    hostPath: () => undefined,
    net: undefined,
    onInstrument: undefined,
    listeners: new Map(),
    openStreams: new Map(),
    instrumentations: new Map(),
    commandNames: new Set(['input']),
    pcapCapture: undefined,
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let errText = '';
  stdout.resume();
  stderr.on('data', (d: Buffer) => {
    errText += d.toString('utf8');
  });
  const c: CommandContext = {
    name: 'input',
    args,
    env: {},
    stdin: new PassThrough().end(),
    stdout,
    stderr,
    signal,
    phone,
    uid: 2000,
    run: async () => 127,
    out: (data) => writeTo(stdout, data, signal),
    err: (data) => writeTo(stderr, data, signal),
  };
  const code = await inputCommands['input']!(c);
  stdout.end();
  stderr.end();
  return { code, stderr: errText };
}
