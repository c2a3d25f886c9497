/**
 * A phone on adb as the run pipeline drives it (harness/run/device-control.ts's DeviceControl): the
 * facts, preparation and package readers of this folder over one AdbDevice.
 */
import type { OpOptions } from '../deadline.js';
import type { AdbDevice, PhoneReturn, ShellResult } from './adb.js';
import { type DeviceFacts, readFacts, readPackageUids } from './facts.js';
import { type PrepareResult, type PrepareStep, prepare } from './prepare.js';

/** One phone on adb. */
export class AdbDeviceControl {
  constructor(readonly device: AdbDevice) {}

  get serial(): string {
    return this.device.serial;
  }

  facts(op: OpOptions = {}): Promise<DeviceFacts> {
    return readFacts(this.device, op);
  }

  prepare(step: PrepareStep, op: OpOptions = {}): Promise<PrepareResult> {
    return prepare(this.device, step, op);
  }

  shell(command: string, op: OpOptions = {}): Promise<ShellResult> {
    return this.device.shell(command, op);
  }

  log(op: OpOptions & { signal: AbortSignal }): Promise<NodeJS.ReadableStream> {
    return this.device.shellStream('logcat -v threadtime', op);
  }

  screenshot(op: OpOptions = {}): Promise<Buffer> {
    return this.device.screencap(op);
  }

  packageUids(op: OpOptions = {}): Promise<Map<number, string[]>> {
    return readPackageUids(this.device, op);
  }

  waitForReturn(op: { deadlineMs: number; signal?: AbortSignal }): Promise<PhoneReturn> {
    return this.device.waitForReturn(op);
  }
}
