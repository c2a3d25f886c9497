/** Builds simulated phones for tests, each in its own temporary directory, removed by cleanupPhones(). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PhoneProfile } from '../sim/phone/profile.js';
import {
  createSimPhone,
  loadPhoneProfile,
  type SimPhoneInstance,
  type SimPhoneOptions,
} from '../sim/phone/sim-phone.js';

/** The two shipped profiles, by short name. */
export const PROFILES = {
  xiaomi: 'devices/sim/xiaomi-redmi-note-13.yaml',
  pixel: 'devices/sim/pixel-7.yaml',
} as const;

const made: { phone: SimPhoneInstance; dir: string }[] = [];

/** A fresh phone from a shipped profile (optionally edited). */
export async function makePhone(
  which: keyof typeof PROFILES = 'xiaomi',
  opts: Omit<Partial<SimPhoneOptions>, 'profile'> & { edit?: (p: PhoneProfile) => void } = {},
): Promise<SimPhoneInstance> {
  const profile = await loadPhoneProfile(PROFILES[which]);
  opts.edit?.(profile);
  const dir = mkdtempSync(join(tmpdir(), 'phonehome-simphone-'));
  const phone = await createSimPhone({ ...opts, profile, dataDir: dir });
  made.push({ phone, dir });
  return phone;
}

/** Closes every phone made so far and deletes their directories. */
export async function cleanupPhones(): Promise<void> {
  for (const { phone, dir } of made.splice(0)) {
    await phone.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
