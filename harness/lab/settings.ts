/**
 * The settings of a run: the command line over the lab's config file over the defaults, checked.
 */
import { join } from 'node:path';
import { DEFAULT_CANARY_DOMAIN } from '../config/canary.js';
import type { LabHook } from '../config/lab-hooks.js';
import type { LoadedConfig } from '../config/load-config.js';
import { ConfigError, UsageError } from '../errors.js';
import { defaultConfdir } from '../mitm/mitmproxy.js';
import { bundledDevicesDir } from '../project-dir.js';

/** Options of `phonehome run` as commander gives them; unset ones come from the config, then defaults. */
export interface RunCommandOptions {
  config?: string;
  /** Ignore phonehome.config files (the demo runs the same everywhere). */
  noConfig?: boolean;
  scenario?: string[];
  device?: string[];
  profile?: string[];
  all?: boolean;
  sim?: string[];
  speed: string;
  retries: string;
  grep?: string;
  bail?: boolean;
  out?: string;
  capture?: string;
  interface?: string;
  adbHost?: string;
  adbPort?: string;
  devicesDir?: string;
  parallelism?: string;
  report?: boolean;
  /** Plain progress lines even on a terminal (default: live lines on a terminal outside CI). */
  plain?: boolean;
  /** The lab's inventory file (default: $PHONEHOME_INVENTORY, else ~/.config/phonehome/inventory.yaml if there). */
  inventory?: string;
  /** false (--no-ui): no UI automation, whatever the config says. */
  ui?: boolean;
  /** The history folder of baselines (default OUT/history); false (--no-history): no drift. */
  history?: string | false;
  /** Accept the analysed runs into their baselines after the suite. */
  accept?: boolean;
  /** Simulated phones are rooted (sim up --rooted). */
  simRooted?: boolean;
  /** Simulated phones have their SIM card in (sim up --sim-card). */
  simCard?: boolean;
  /** --intercept mitmproxy; false (--no-intercept): none, whatever the config says. */
  intercept?: string | false;
  /** Seconds to wait for a phone another phonehome process has (default 0: refuse at once). */
  waitForPhones?: string;
  reconnectWait?: string;
  snaplen?: string;
}
/** A whole number of at least `min` from a flag or variable; UsageError names it otherwise. */
export function positiveInt(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name}: not a whole number ≥ ${min}: ${v}`);
  return n;
}
const BACKENDS = ['tcpdump', 'cap', 'pcapdroid'] as const;

/** The settings of a run: the command line over the config over the defaults. */
export interface RunSettings {
  scenarios: string[];
  out: string;
  capture: (typeof BACKENDS)[number];
  interface?: string;
  snaplen?: number;
  adb: { host: string; port: number; bin: string };
  devicesDir: string;
  parallelism?: number;
  canaryDomain: string;
  /** The lab's command for each hook (the config's `hooks:`). */
  hooks: Partial<Record<LabHook, string[]>>;
  /** Appium for UI steps: the config's, else phonehome's own when the UiAutomator2 driver is installed. */
  appium?: Exclude<NonNullable<LoadedConfig['appium']>, false>;
  /** Why there is no UI automation, when there is none. */
  noUi?: string;
  /** Baselines for drift: the folder, whether to accept this suite's analysed runs, how many to keep. */
  history?: { dir: string; accept: boolean; keep: number };
  /** TLS interception, when on. */
  intercept?: {
    mode: 'mitmproxy';
    ignoreHosts: string[];
    confdir: string;
    onFailure: 'broken' | 'warn';
    bodyCap: number;
    installCa: boolean;
    lanInterface?: string;
  };
}

/** Merges the command line, the config and the defaults; throws UsageError or ConfigError. */
export function resolveSettings(
  o: RunCommandOptions,
  config: LoadedConfig,
  configFile: string | undefined,
  known: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  /** Whether phonehome's own Appium has the UiAutomator2 driver (make setup installs it). */
  uiInstalled = false,
  /** The scenarios run when neither the command line nor the config names any (default: all known). */
  byDefault: readonly string[] = known,
): RunSettings {
  let scenarios: string[];
  if (o.scenario?.length) {
    scenarios = o.scenario.flatMap((s) => s.split(',')).filter(Boolean);
    for (const n of scenarios) if (!known.includes(n)) throw new UsageError(unknownScenario(n, known));
  } else if (config.scenarios) {
    scenarios = config.scenarios;
    scenarios.forEach((n, i) => {
      if (!known.includes(n))
        throw new ConfigError(configFile ?? 'config', 0, 0, `scenarios[${i}]`, unknownScenario(n, known));
    });
  } else {
    scenarios = [...byDefault];
  }
  const capture = o.capture ?? config.capture?.backend ?? 'tcpdump';
  if (!(BACKENDS as readonly string[]).includes(capture))
    throw new UsageError(`--capture: tcpdump, cap or pcapdroid, not ${capture}`);
  const iface = o.interface ?? config.capture?.interface;
  const snaplen = o.snaplen !== undefined ? positiveInt('--snaplen', o.snaplen) : config.capture?.snaplen;
  if (snaplen !== undefined && snaplen > 262144)
    throw new UsageError(`--snaplen: at most 262144 (0: whole packets), not ${snaplen}`);
  const parallelism =
    o.parallelism !== undefined ? positiveInt('--parallelism', o.parallelism, 1) : config.parallelism;
  const out = o.out ?? config.out ?? 'reports';
  const h = config.history === false ? undefined : (config.history ?? {});
  const history =
    o.history === false || (h === undefined && o.history === undefined)
      ? undefined
      : {
          dir: o.history ?? h?.dir ?? join(out, 'history'),
          accept: o.accept ?? h?.accept ?? false,
          keep: h?.keep ?? 10,
        };
  if (o.accept && !history) throw new UsageError('--accept needs a history folder (not with --no-history)');
  if (typeof o.intercept === 'string' && o.intercept !== 'mitmproxy')
    throw new UsageError(`--intercept: mitmproxy is the one mode there is, not ${o.intercept}`);
  const ic = config.intercept || undefined;
  const intercept =
    o.intercept === false || (o.intercept === undefined && !ic)
      ? undefined
      : {
          mode: 'mitmproxy' as const,
          ignoreHosts: ic?.ignoreHosts ?? [],
          confdir: ic?.confdir ?? defaultConfdir(env),
          onFailure: ic?.onFailure ?? ('broken' as const),
          bodyCap: ic?.bodyCap ?? 65536,
          installCa: ic?.installCa ?? true,
          ...(ic?.lanInterface ? { lanInterface: ic.lanInterface } : {}),
        };
  return {
    scenarios,
    out,
    capture: capture as RunSettings['capture'],
    ...(iface ? { interface: iface } : {}),
    ...(snaplen ? { snaplen } : {}),
    adb: {
      host: o.adbHost ?? config.adb?.host ?? '127.0.0.1',
      port:
        o.adbPort !== undefined
          ? positiveInt('--adb-port', o.adbPort, 1)
          : (config.adb?.port ??
            positiveInt('ANDROID_ADB_SERVER_PORT', env.ANDROID_ADB_SERVER_PORT ?? '5037', 1)),
      bin: config.adb?.bin ?? env.PHONEHOME_ADB ?? 'adb',
    },
    devicesDir: o.devicesDir ?? config.devicesDir ?? bundledDevicesDir(),
    ...(parallelism !== undefined ? { parallelism } : {}),
    canaryDomain: config.canaryDomain ?? DEFAULT_CANARY_DOMAIN,
    hooks: config.hooks ?? {},
    ...uiSettings(o, config, uiInstalled),
    ...(history ? { history } : {}),
    ...(intercept ? { intercept } : {}),
  };
}

/** UI automation: off with --no-ui or `appium: false`, the config's Appium, else our own when installed. */
function uiSettings(
  o: RunCommandOptions,
  config: LoadedConfig,
  uiInstalled: boolean,
): Pick<RunSettings, 'appium' | 'noUi'> {
  if (o.ui === false) return { noUi: '--no-ui' };
  if (config.appium === false) return { noUi: 'appium: false in the config' };
  if (config.appium) return { appium: config.appium };
  if (uiInstalled) return { appium: { local: {} } };
  return { noUi: "the UiAutomator2 driver is not installed in phonehome's Appium (make setup installs it)" };
}

/** Says a scenario name is unknown: the closest known one when a typo is likely, then all of them. */
export function unknownScenario(name: string, known: readonly string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(name, k) }))
    .filter((c) => c.d <= Math.max(1, Math.floor(c.k.length / 4)))
    .sort((a, b) => a.d - b.d)[0]?.k;
  return `no scenario ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ''}; known: ${known.join(', ')}`;
}

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours), for short names. */
function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Math.abs(a.length - b.length) + 100;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1);
      row[j] = d;
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
