/**
 * UI automation for a run's phones: Appium (a local server phonehome starts, or the lab's own) with the
 * UiAutomator2 driver, one session per phone through one pool.
 */
import { join } from 'node:path';
import type { SuiteOptions } from '../run/suite.js';
import type { RunSettings } from './settings.js';

/** A UI per phone for the suite, and a way to end every session and the server. */
export interface UiProvider {
  uiFor: NonNullable<SuiteOptions['uiFor']>;
  /** The local Appium process, while it runs (for status lines and fault tests). */
  appiumPid(): number | undefined;
  close(): Promise<void>;
}

/** Appium for the suite's phones: a UI per phone through one session pool, and a way to end it all. */
export async function appiumUiProvider(
  cfg: NonNullable<RunSettings['appium']>,
  adb: RunSettings['adb'],
  outDir: string,
  signal: AbortSignal,
): Promise<UiProvider> {
  const { AppiumServer, remoteAppium } = await import('../appium/appium-server.js');
  const { PhoneSessions, uiautomator2Capabilities } = await import('../appium/session.js');
  const { AppiumUi } = await import('../appium/appium-ui.js');
  const server =
    'local' in cfg
      ? await AppiumServer.start({
          logFile: join(outDir, 'appium.log'),
          adb,
          signal,
          ...(cfg.local.port ? { port: cfg.local.port } : {}),
        })
      : undefined;
  const pool = new PhoneSessions(server ?? remoteAppium((cfg as { url: string }).url));
  return {
    async uiFor(phone, _facts, profile) {
      const spec = {
        serial: phone.serial,
        capabilities: uiautomator2Capabilities(phone.serial, {
          profile: profile.appium,
          profileFile: profile.file,
          adb,
        }),
      };
      // A session now, so that a phone Appium cannot drive skips its UI scenarios with the reason.
      await pool.get(spec, { deadlineMs: 180_000, signal });
      // What a step types (an account, a password) never reaches the Appium log in the report folder.
      return AppiumUi.forPhone(pool, spec, server ? { onSecret: (text) => server.redact(text) } : {});
    },
    appiumPid: () => server?.pid,
    async close() {
      await pool.closeAll({ deadlineMs: 20_000 });
      await server?.stop({ deadlineMs: 20_000 });
    },
  };
}
