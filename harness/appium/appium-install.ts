/**
 * Where phonehome's own Appium lives and what it has: the project's node_modules/appium, the drivers
 * installed in its APPIUM_HOME, and the one Android SDK file a UiAutomator2 session needs (adb).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, constants, mkdir, readFile, readlink, realpath, rename, symlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppiumError } from '../errors.js';
import { phonehomePackage } from '../project-dir.js';

/** phonehome's own folder (harness/project-dir.ts), which must hold node_modules/appium. */
export function projectRoot(): string {
  const dir = phonehomePackage()?.dir;
  if (dir && existsSync(join(dir, 'node_modules', 'appium', 'package.json'))) return dir;
  throw new AppiumError(
    'not-installed',
    `no node_modules/appium in ${dir ?? "phonehome's folder (not found above this file)"}`,
    'run npm ci and make setup',
  );
}

/** Drivers installed in an APPIUM_HOME, by name, as Appium's manifest lists them. */
export async function installedDrivers(
  appiumHome: string,
): Promise<Map<string, { automationName: string; version: string; installPath: string }>> {
  const out = new Map<string, { automationName: string; version: string; installPath: string }>();
  let text: string;
  try {
    text = await readFile(join(appiumHome, 'node_modules', '.cache', 'appium', 'extensions.yaml'), 'utf8');
  } catch {
    return out;
  }
  const manifest = parseYaml(text) as { drivers?: Record<string, Record<string, unknown>> } | null;
  for (const [name, d] of Object.entries(manifest?.drivers ?? {})) {
    const installPath = String(d.installPath ?? '');
    if (!installPath || !existsSync(join(installPath, 'package.json'))) continue;
    out.set(name, {
      automationName: String(d.automationName ?? ''),
      version: String(d.version ?? ''),
      installPath,
    });
  }
  return out;
}

/** Finds a program on PATH (or a path as given), resolved to the real file. */
async function findProgram(bin: string): Promise<string | undefined> {
  const candidates = bin.includes('/')
    ? [bin]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d || '.', bin));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return await realpath(c);
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Lays out APPIUM_HOME/android-sdk/platform-tools/adb → phonehome's adb binary, the only SDK file a
 * UiAutomator2 session without an `app` capability needs. Returns the folder to use as ANDROID_HOME.
 */
export async function ensureAndroidHome(appiumHome: string, adbBin: string): Promise<string> {
  const sdk = join(appiumHome, 'android-sdk');
  const tools = join(sdk, 'platform-tools');
  const adb = await findProgram(adbBin);
  if (!adb) return sdk;
  await mkdir(tools, { recursive: true });
  const link = join(tools, 'adb');
  if ((await readlink(link).catch(() => '')) === adb) return sdk;
  // Replace atomically: concurrent starts must never see a missing adb.
  const tmp = `${link}.${randomUUID()}`;
  await symlink(adb, tmp);
  await rename(tmp, link);
  return sdk;
}
