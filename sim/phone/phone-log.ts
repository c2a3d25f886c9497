/** A simulated phone's log buffer (what logcat reads), stamped by the phone's own clock. */
import type { LogEntry } from './state-types.js';

/** Lines the buffer keeps, as a real phone's ring buffer keeps the newest. */
const LOG_CAPACITY = 5000;

export class PhoneLog {
  private readonly entries: LogEntry[] = [];

  constructor(
    /** The phone's clock, ms since the epoch. */
    private readonly now: () => number,
    /** Tells logcat readers of a new line. */
    private readonly onLine: (entry: LogEntry) => void,
  ) {}

  /** Appends a log line and tells logcat readers. */
  add(priority: number, tag: string, message: string, pid = 1000, tid = pid): void {
    const entry: LogEntry = { time: this.now(), pid, tid, priority, tag, message };
    this.entries.push(entry);
    if (this.entries.length > LOG_CAPACITY) this.entries.splice(0, this.entries.length - LOG_CAPACITY);
    this.onLine(entry);
  }

  /** The buffer, oldest first. */
  lines(): readonly LogEntry[] {
    return this.entries;
  }

  /** logcat -c. */
  clear(): void {
    this.entries.length = 0;
  }
}
