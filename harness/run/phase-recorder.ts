/**
 * Keeps a run's record as it happens: each phase begins and ends here, result.json is rewritten after
 * each one (so a crash or Ctrl-C keeps everything up to that point), and run.log gets a line for
 * people. Nothing reads run.log back.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { BrokenKind, Phase, PhaseRecord, PhaseStatus, RunResult } from '../record/run-record.js';

/** Writes JSON so that a reader sees the old file or the whole new one, never half of it. */
export function writeJsonFile(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

const now = () => Date.now() / 1000;

/** The record of one run, kept in its run folder. */
export class PhaseRecorder {
  /** The phase under way (the one a failure breaks). */
  private current: PhaseRecord | undefined;

  constructor(
    readonly result: RunResult,
    private readonly onLine?: (line: string) => void,
  ) {}

  /**
   * The first write of run.log or result.json that failed (a full disk): the run goes on, since the
   * record is kept in memory and reported, and the run cannot pass with its record missing on disk.
   */
  writeFailure: string | undefined;

  #failed(file: string, err: unknown): void {
    if (this.writeFailure) return;
    const e = err as NodeJS.ErrnoException;
    this.writeFailure = `cannot write ${join(this.result.dir, file)}: ${e?.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : String(e?.message ?? err)}`;
    this.onLine?.(this.writeFailure);
  }

  /** Appends a line to run.log and tells the person watching. */
  async log(line: string): Promise<void> {
    await appendFile(join(this.result.dir, 'run.log'), `${new Date().toISOString()} ${line}\n`).catch((err) =>
      this.#failed('run.log', err),
    );
    this.onLine?.(line);
  }

  /** Saves result.json. */
  save(): Promise<void> {
    return writeJsonFile(join(this.result.dir, 'result.json'), this.result).catch((err) =>
      this.#failed('result.json', err),
    );
  }

  /** Begins a phase of the run; it is the current one until the next begins. */
  begin(phase: Phase, name: string, more: Partial<PhaseRecord> = {}): PhaseRecord {
    const rec: PhaseRecord = { phase, name, tsStart: now(), tsEnd: 0, status: 'passed', detail: '', ...more };
    this.result.phases.push(rec);
    this.current = rec;
    return rec;
  }

  /** Begins a part of a phase (a preparation step, a canary found in the capture). */
  part(of: PhaseRecord, name: string): PhaseRecord {
    const rec: PhaseRecord = {
      phase: of.phase,
      name,
      tsStart: now(),
      tsEnd: 0,
      status: 'passed',
      detail: '',
    };
    of.parts = [...(of.parts ?? []), rec];
    return rec;
  }

  /** Ends a phase or part. */
  end(rec: PhaseRecord, status: PhaseStatus, detail?: string): void {
    rec.status = status;
    if (detail !== undefined) rec.detail = detail;
    rec.tsEnd = now();
  }

  /** The run broke in the current phase: the record says where and why, and result.json is saved. */
  async broke(kind: BrokenKind, reason: string): Promise<void> {
    const at = this.current;
    if (at && at.tsEnd === 0) {
      at.status = 'broken';
      at.detail = reason;
      at.tsEnd = now();
      for (const p of at.parts ?? []) if (p.tsEnd === 0) this.end(p, 'broken', reason);
    }
    this.result.outcome = 'broken';
    this.result.reason = reason;
    this.result.broken = { stage: at?.phase ?? 'prepare', kind, detail: reason };
    await this.log(`broken: ${reason}`);
    await this.save();
  }
}
