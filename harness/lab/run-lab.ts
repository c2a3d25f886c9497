/**
 * A run's parts from its settings: the simulated lab for --sim, the adb server and the phones, the
 * capture backend, Appium for UI steps, and Allure for the results; then the suite, and everything put
 * away again, whatever happened.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remoteAdbWarning } from '../config/farm-file.js';
import type { LabHook } from '../config/lab-hooks.js';
import { errorMessage, UsageError } from '../errors.js';
import type { Interceptor } from '../run/intercept.js';
import type { SuiteEvent, SuitePhone, SuiteSummary } from '../run/suite.js';
import { positiveInt, type RunCommandOptions, type RunSettings, resolveSettings } from './settings.js';
import { parseSimSpec, type SimLab, simDown, simGroups, simUp } from './sim-lab.js';
import type { UiProvider } from './ui-provider.js';

/** Who watches a run: the terminal's live lines or plain lines. */
export interface RunWatcher {
  /** True when it redraws live lines (mocha's spec reporter stays quiet then). */
  readonly live: boolean;
  /** A line for the person watching. */
  print(line: string): void;
  /** Something happened in the suite. */
  event(e: SuiteEvent): void;
  /** The run is over. */
  close(): void;
}

/**
 * Runs the suite as the options say, with the lab's parts wired in; `watcher` is told what happens.
 * Resolves with the summary and the skipped scenarios.
 */
export async function runScenarios(
  o: RunCommandOptions,
  signal: AbortSignal,
  watcher: RunWatcher,
): Promise<{ summary: SuiteSummary; skipped: Extract<SuiteEvent, { type: 'end' }>[] }> {
  const { SCENARIOS, scenarioNamed } = await import('../../scenarios/index.js');
  const { loadConfig } = await import('../config/load-config.js');
  const { ensureAdbServer } = await import('../device/adb-server.js');
  const { discoverDevices } = await import('../device/discovery.js');
  const { loadProfiles, matchProfile, typedVariables } = await import('../device/profiles.js');
  const { AdbDeviceControl } = await import('../device/device-control.js');
  const { runSuite } = await import('../run/suite.js');
  const { allureReporting, writeAllureLaunch } = await import('./allure-reporting.js');
  const { captureBackends } = await import('./capture-backend.js');
  const { loadRunBaseline } = await import('../drift/baseline-file.js');

  const { file: configFile, config } = o.noConfig
    ? { file: undefined, config: {} }
    : await loadConfig(o.config);
  // UI automation by default when phonehome's own Appium has the UiAutomator2 driver.
  let uiInstalled = false;
  if (o.ui !== false && config.appium === undefined) {
    const { installedDrivers, projectRoot } = await import('../appium/appium-install.js');
    try {
      const drivers = await installedDrivers(join(projectRoot(), '.appium'));
      uiInstalled = [...drivers.values()].some((d) => d.automationName.toLowerCase() === 'uiautomator2');
    } catch {
      uiInstalled = false;
    }
  }
  const settings = resolveSettings(
    o,
    config,
    configFile,
    SCENARIOS.map((s) => s.name),
    process.env,
    uiInstalled,
    // Long scenarios (an 8-hour night) run only when named.
    SCENARIOS.filter((s) => !s.onlyWhenNamed).map((s) => s.name),
  );
  const history = settings.history;
  if (settings.noUi)
    watcher.print(`phonehome: no UI automation (${settings.noUi}): UI steps use their adb equivalent`);
  const scenarios = settings.scenarios.map((n) => scenarioNamed(n)!);
  const speed = positiveInt('--speed', o.speed, 1);
  const retries = positiveInt('--retries', o.retries);
  const waitForPhonesMs = 1000 * positiveInt('--wait-for-phones', o.waitForPhones ?? '0');
  const reconnectWaitMs = 1000 * positiveInt('--reconnect-wait', o.reconnectWait ?? '60');
  if (o.grep !== undefined) {
    try {
      new RegExp(o.grep);
    } catch (err) {
      throw new UsageError(`--grep: not a regular expression: ${(err as Error).message}`);
    }
  }
  const chosen = [o.all, o.device?.length, o.profile?.length, o.sim?.length].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('choose phones one way: --device, --profile, --all or --sim');
  if (chosen === 0)
    throw new UsageError('which phones? give --device SERIAL, --profile NAME, --all, or --sim PROFILE');
  const simSpecs = (o.sim ?? []).flatMap((s) => s.split(',')).map(parseSimSpec);
  if (simSpecs.length && process.getuid?.() !== 0)
    throw new UsageError('--sim needs root to create network namespaces');

  const profiles = await loadProfiles(settings.devicesDir);
  // Read before any phone comes up: a wrong inventory stops the run here, naming its line.
  const { defaultInventoryPath, readInventory } = await import('../identifiers/inventory.js');
  const fallback = defaultInventoryPath();
  const inventory = o.inventory
    ? await readInventory(o.inventory, true)
    : o.noConfig && !fallback.named
      ? undefined
      : await readInventory(fallback.path, fallback.named);
  // The location sources, read before any phone comes up: a bad override or party file stops the
  // run here, naming its line. A simulated lab adds its own overrides: the countries and networks
  // of the real hosts its internet stands in for.
  const { openGeo } = await import('../geo/open-locator.js');
  const { bundledDevicesDir } = await import('../project-dir.js');
  const geoConfig = config.geo ?? {};
  const geo = await openGeo({
    ...(geoConfig.databases === false ? { databases: false } : {}),
    overrideFiles: [
      ...(geoConfig.overrideFiles ?? []),
      ...(simSpecs.length ? [join(bundledDevicesDir(), 'sim', 'geo-overrides.yaml')] : []),
    ],
    ...(geoConfig.overrides
      ? { overrides: { specs: geoConfig.overrides, file: configFile ?? 'config' } }
      : {}),
  });
  const skipped: Extract<SuiteEvent, { type: 'end' }>[] = [];
  const labs: SimLab[] = [];
  let appium: UiProvider | undefined;
  let locks: import('./phone-lock.js').PhoneLocks | undefined;
  try {
    let phones: SuitePhone[] = [];
    // A simulated phone takes any account: each variable a profile's UI steps type gets a made-up value
    // unless the lab host sets it.
    const simTyped: Record<string, string> = {};
    for (const p of profiles)
      for (const a of Object.values(p.actions))
        for (const v of typedVariables(a))
          simTyped[v] = process.env[v] || `phonehome-sim-${v.toLowerCase().replace(/_/g, '-')}`;
    if (simSpecs.length) {
      for (const group of simGroups(simSpecs)) {
        if (signal.aborted) break;
        const lab = await simUp(group.profiles, group.misbehave, speed, settings.adb.port, {
          rooted: Boolean(o.simRooted),
          simCard: Boolean(o.simCard),
        });
        labs.push(lab);
        const n = lab.state.phones.length;
        watcher.print(
          `phonehome: simulated lab ${lab.state.labId} up (${n} ${n === 1 ? 'phone' : 'phones'}; namespaces ${lab.state.namespaces.join(' ')}; state dir ${lab.dir})`,
        );
        phones.push(
          ...lab.state.phones.map((p) => ({
            serial: p.adbSerial,
            captureInterface: p.captureInterface,
            // The simulated internet presents one certificate for every name: not verified upstream.
            gateway: {
              netns: p.gateway.namespace,
              lanInterface: p.gateway.interface,
              upstreamInsecure: true,
            },
            speed,
            typed: simTyped,
            // The lab's SIM switch is phonehome's own control of the simulated lab.
            hooks: simHooks(lab.dir),
          })),
        );
      }
    }
    const remote = remoteAdbWarning(settings.adb.host, settings.adb.port);
    if (remote) watcher.print(`phonehome: warning: ${remote}`);
    const client = await ensureAdbServer(settings.adb);
    if (!simSpecs.length) {
      const found = (await discoverDevices(client)).filter((d) => d.usable);
      let serials = found.map((d) => d.serial);
      if (o.device?.length) {
        // A phone is named by its adb serial, or as phonehome shows it (its masked label, or the
        // label's fingerprint), since the output never shows a USB phone's serial.
        const { fingerprintKey, namesPhone } = await import('../identifiers/mask.js');
        const key = fingerprintKey();
        const want = o.device.flatMap((d) => d.split(','));
        const picked: string[] = [];
        for (const w of want) {
          const s = serials.find((x) => namesPhone(w, x, key));
          if (!s) throw new UsageError(`no usable phone ${w} (see phonehome devices)`);
          if (!picked.includes(s)) picked.push(s);
        }
        serials = picked;
      } else if (o.profile?.length) {
        const want = new Set(o.profile.flatMap((p) => p.split(',')));
        const keep: string[] = [];
        for (const s of serials) {
          const f = await new AdbDeviceControl(client.device(s)).facts({ deadlineMs: 15_000, signal });
          const m = matchProfile(profiles, f.properties);
          if (m.profile && want.has(m.profile.name)) keep.push(s);
        }
        serials = keep;
      }
      if (serials.length === 0) throw new UsageError('no usable phone attached (see phonehome devices)');
      // A real phone runs at 1; a simulated one attached by serial tells its own speed.
      phones = serials.map((serial) => ({
        serial,
        ...(settings.interface ? { captureInterface: settings.interface } : {}),
      }));
    }

    // One phonehome per phone on this host: a second process (another farm job, a person) is refused
    // or waits, never drives a phone this one drives.
    const { lockPhones } = await import('./phone-lock.js');
    locks = await lockPhones(
      phones.map((p) => p.serial),
      {
        waitMs: waitForPhonesMs,
        signal,
        onNote: (text) => watcher.print(`phonehome: ${text}`),
      },
    );
    if (settings.appium) {
      await mkdir(settings.out, { recursive: true });
      const { appiumUiProvider } = await import('./ui-provider.js');
      appium = await appiumUiProvider(settings.appium, settings.adb, settings.out, signal);
    }
    const interceptFor = settings.intercept ? await interceptors(settings, settings.intercept) : undefined;
    const runId = new Date().toISOString().replace(/[:.]/g, '-');
    const resultsDir = resolve(settings.out, 'allure-results');
    // The live lines say what the spec reporter would, and the two would garble each other.
    const reporting = allureReporting(resultsDir, !watcher.live);
    const summary = await runSuite({
      deviceFor: (serial) => new AdbDeviceControl(client.device(serial)),
      phones,
      profiles,
      scenarios,
      captureFor: captureBackends(
        {
          backend: settings.capture,
          ...(settings.interface ? { interface: settings.interface } : {}),
          ...(settings.snaplen ? { snaplen: settings.snaplen } : {}),
        },
        client,
      ),
      outDir: settings.out,
      runId,
      retries,
      reconnectWaitMs,
      ...(o.grep ? { grep: o.grep } : {}),
      ...(o.bail ? { bail: true } : {}),
      ...(settings.parallelism ? { parallelism: settings.parallelism } : {}),
      canaryDomain: settings.canaryDomain,
      ...(appium ? { uiFor: appium.uiFor } : {}),
      typed: process.env,
      hooks: settings.hooks,
      ...(inventory ? { inventory } : {}),
      ...(history
        ? { baselineFor: (profile, scenario) => loadRunBaseline(history.dir, profile, scenario) }
        : {}),
      locatorFor: (profile) => geo.locatorFor(profile.maker),
      ...(interceptFor ? { interceptFor } : {}),
      mochaReporter: reporting.mochaReporter,
      sinks: reporting.sinks,
      signal,
      onEvent: (e) => {
        if (e.type === 'end' && e.outcome === 'skipped') skipped.push(e);
        watcher.event(e);
      },
    });
    await writeAllureLaunch(summary.resultsDir);
    if (history?.accept) await acceptAnalysed(summary, history, watcher);
    return { summary, skipped };
  } finally {
    watcher.close();
    geo.close();
    await appium?.close().catch(() => {});
    await locks?.release();
    for (const lab of labs) await simDown(lab);
  }
}

/**
 * The suite's analysed runs (passed or failed: their verdict stands) into their baselines, so that
 * the next run's drift is against them. Broken runs are not accepted: they did not see everything.
 */
async function acceptAnalysed(
  summary: SuiteSummary,
  history: { dir: string; keep: number },
  watcher: RunWatcher,
): Promise<void> {
  const { acceptIntoHistory, readSummaryFile } = await import('../drift/baseline-file.js');
  const runs = [];
  for (const r of summary.results) {
    if (r.outcome === 'broken' || !r.profile) continue;
    try {
      // The summary the run wrote (summary.json): what its own drift was computed from.
      runs.push({ profile: r.profile, summary: await readSummaryFile(r.dir) });
    } catch (err) {
      watcher.print(`phonehome: not accepted into the history: ${r.dir}: ${errorMessage(err)}`);
    }
  }
  if (runs.length === 0) return;
  const written = await acceptIntoHistory(history.dir, runs, history.keep);
  watcher.print(
    `phonehome: accepted ${runs.length} run${runs.length === 1 ? '' : 's'} into ${written.length} baseline${written.length === 1 ? '' : 's'} in ${history.dir}`,
  );
}

/**
 * TLS interception for each phone: mitmproxy where the lab routes it (a simulated phone's gateway,
 * else the host on the config's lanInterface or the capture interface). Checked before any phone runs.
 */
async function interceptors(
  settings: RunSettings,
  ic: NonNullable<RunSettings['intercept']>,
): Promise<(phone: SuitePhone) => Interceptor> {
  const { MitmInterceptor, ensureCa } = await import('../mitm/mitmproxy.js');
  if (process.getuid?.() !== 0)
    throw new UsageError('--intercept needs root: it adds firewall rules that send the phone to mitmproxy');
  const mitm = { ...ic, mitmdump: 'mitmdump' };
  try {
    await ensureCa(mitm);
  } catch (err) {
    throw new UsageError(`${errorMessage(err)} (make setup installs mitmproxy)`);
  }
  return (phone) => {
    const gateway = phone.gateway ?? {
      lanInterface: ic.lanInterface ?? phone.captureInterface ?? settings.interface ?? '',
    };
    if (!gateway.lanInterface)
      throw new UsageError(
        `no interface to intercept ${phone.serial} on: give intercept.lanInterface in the config, or --interface`,
      );
    return new MitmInterceptor(mitm, gateway);
  };
}

/** The hooks of a simulated lab's phones: `phonehome sim card insert|remove SERIAL` on that lab. */
function simHooks(stateDir: string): Partial<Record<LabHook, string[]>> {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const card = (op: string) => [
    process.execPath,
    cli,
    'sim',
    'card',
    op,
    '{serial}',
    '--state-dir',
    stateDir,
  ];
  return {
    'sim.insert': card('insert'),
    'sim.remove': card('remove'),
    'sms.receive': [process.execPath, cli, 'sim', 'sms', '{serial}', '--state-dir', stateDir],
    'phone.reset': [process.execPath, cli, 'sim', 'reset', '{serial}', '--state-dir', stateDir],
  };
}
