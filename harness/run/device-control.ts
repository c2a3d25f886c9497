/**
 * What the run pipeline needs from a phone: its facts, the preparation steps, shell commands, its log,
 * a screenshot and its apps' UIDs, each with a deadline and a signal. The adb backend
 * (harness/device/device-control.ts) implements it; the pipeline never knows how the phone is reached.
 */
import type { OpOptions } from '../deadline.js';
import type { DeviceFacts } from '../device/facts.js';
import type { PrepareResult, PrepareStep } from '../device/prepare.js';

/** The output of a shell command run with its exit status. */
export interface CommandResult {
  /** Standard output and standard error, merged. */
  output: Buffer;
  /** The command's exit status. */
  exitCode: number;
}

/** How a lost phone's wait for its return ended (the adb backend's PhoneReturn). */
export interface PhoneReturn {
  /** True when the phone is there again and answers. */
  back: boolean;
  /** Milliseconds waited. */
  ms: number;
  /** Reconnect requests made for it. */
  reconnects: number;
  /** In words: how it came back, or how it was last seen. */
  detail: string;
}

/** One phone, as a run drives it. Failures reject: DeviceLostError when it went away. */
export interface DeviceControl {
  /** The phone's serial, as the lab's tools know it. */
  readonly serial: string;
  /** What the phone says it is (model, Android and ROM versions, addresses…). */
  facts(op?: OpOptions): Promise<DeviceFacts>;
  /** Runs one preparation step. */
  prepare(step: PrepareStep, op?: OpOptions): Promise<PrepareResult>;
  /** Runs a shell command. */
  shell(command: string, op?: OpOptions): Promise<CommandResult>;
  /** The phone's log as it is written, until the stream ends or the signal aborts. */
  log(op: OpOptions & { signal: AbortSignal }): Promise<NodeJS.ReadableStream>;
  /** A PNG of the screen. */
  screenshot(op?: OpOptions): Promise<Buffer>;
  /** Installed apps' package names by Linux UID. */
  packageUids(op?: OpOptions): Promise<Map<number, string[]>>;
  /**
   * After the phone was lost: waits up to the deadline for it to come back, asking the adb server to
   * reconnect that phone alone. A backend that cannot tell leaves it out, and a lost phone is not waited for.
   */
  waitForReturn?(op: { deadlineMs: number; signal?: AbortSignal }): Promise<PhoneReturn>;
}
