/**
 * UI automation for a suite run: phonehome's own local Appium 3 server (or a lab's remote one), one
 * UiAutomator2 session per phone reused across its scenarios, handed to the run pipeline as its Ui.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdbServerConfig } from '../device/adb-server.js';
import type { DeviceProfile } from '../device/profiles.js';
import type { Ui } from '../run/ui.js';
import { projectRoot } from './appium-install.js';
import { type AppiumEndpoint, AppiumServer, remoteAppium } from './appium-server.js';
import { AppiumUi } from './appium-ui.js';
import { PhoneSessions, uiautomator2Capabilities } from './session.js';

/** Gives each phone its Ui; closes sessions and the server at the end. */
export interface UiProvider {
  /** The phone's Ui (its session is made on first use). */
  uiFor(serial: string, profile: DeviceProfile): Ui;
  /** Appium's and the UiAutomator2 driver's versions, for the report's environment. */
  readonly versions: { appium: string; uiautomator2Driver: string };
  /** Ends every session and stops a server phonehome started. */
  close(): Promise<void>;
}

async function packageVersion(file: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Starts a local Appium (or uses the remote URL) and returns the provider. */
export async function startAppiumUi(opts: {
  adb: AdbServerConfig;
  /** Appium's log file when phonehome starts the server. */
  logFile: string;
  /** A lab's Appium URL: nothing is started. */
  url?: string;
  signal?: AbortSignal;
}): Promise<UiProvider> {
  const server = opts.url
    ? undefined
    : await AppiumServer.start({
        logFile: opts.logFile,
        adb: opts.adb,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
  const endpoint: AppiumEndpoint = server ?? remoteAppium(opts.url!);
  const pool = new PhoneSessions(endpoint);
  const root = projectRoot();
  const versions = {
    appium: await packageVersion(join(root, 'node_modules', 'appium', 'package.json')),
    uiautomator2Driver: await packageVersion(
      join(root, '.appium', 'node_modules', 'appium-uiautomator2-driver', 'package.json'),
    ),
  };
  return {
    versions,
    uiFor(serial, profile) {
      const capabilities = uiautomator2Capabilities(serial, {
        profile: profile.appium,
        profileFile: profile.file,
        adb: opts.adb,
      });
      return AppiumUi.forPhone(pool, { serial, capabilities });
    },
    async close() {
      await pool.closeAll({ deadlineMs: 30_000 });
      await server?.stop({ deadlineMs: 10_000 });
    },
  };
}
