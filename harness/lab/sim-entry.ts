/**
 * The door to the simulator: its command (sim/main.ts), run as a child process. The harness imports
 * none of the simulator's code; it reads what `sim up --json` prints, as declared here.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** What the harness reads of one phone in `sim up --json`. */
export interface SimLabPhone {
  /** The serial the adb server lists it under ("127.0.0.1:PORT"). */
  adbSerial: string;
  /** Host interface that carries only this phone's traffic. */
  captureInterface: string;
  /** Where the lab routes the phone's traffic (its simulated internet's namespace) and the interface there. */
  gateway: { namespace: string; interface: string };
}

/** What the harness reads of a simulated lab in `sim up --json`. */
export interface SimLabState {
  /** The lab's id, prefix of every name it creates. */
  labId: string;
  /** Its network namespaces. */
  namespaces: string[];
  /** Its phones. */
  phones: SimLabPhone[];
}

/** `node ARGS` that run the simulator's command: compiled from dist/, or the source through tsx. */
export function simCommandArgs(args: readonly string[]): string[] {
  const self = import.meta.url;
  const fromSources = self.endsWith('.ts');
  const script = fileURLToPath(new URL(`../../sim/main.${fromSources ? 'ts' : 'js'}`, self));
  return [...(fromSources ? ['--import', import.meta.resolve('tsx')] : []), script, 'sim', ...args];
}

/** Runs `sim ARGS` with this process's standard streams; resolves with its exit status. */
export function runSimCommand(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, simCommandArgs(args), { stdio: 'inherit' });
    child.once('error', reject);
    // A child ended by a signal exits as a shell reports it: 128 + the signal's number.
    child.once('close', (code, signal) =>
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
    );
  });
}
