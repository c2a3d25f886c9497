/**
 * A simulated phone's apps: installed packages, running processes and services, app ops, the idle
 * whitelist, and the activity in front.
 */
import { fullComponent } from './component-name.js';
import type { AppProcess, InstalledPackage, RunningService, StateCore } from './state-types.js';

export class AppsState {
  /** Installed packages by name. */
  readonly packages = new Map<string, InstalledPackage>();
  /** Running app processes by name. */
  readonly processes = new Map<string, AppProcess>();
  /** Started services. */
  readonly services = new Map<string, RunningService>();
  /** App ops: "pkg op" → mode. */
  readonly appOps = new Map<string, string>();
  /** Packages on the deviceidle whitelist. */
  readonly idleWhitelist = new Set<string>();
  /** The resumed activity (pkg/cls, fully qualified), or undefined for none. */
  foreground: string | undefined;
  private nextPid = 3000;

  constructor(
    private readonly core: StateCore,
    /** Called when a package is force-stopped, before it is logged (the backup app stops its backup). */
    private readonly onForceStop: (pkg: string) => void,
  ) {}

  /** Installs the profile's packages as they are at first boot. */
  loadProfile(targetSdk: number): void {
    this.packages.clear();
    const now = Date.now();
    for (const pkg of this.core.profile.packages) {
      const launch = pkg.launchActivity ? fullComponent(pkg.launchActivity) : undefined;
      const activities = pkg.activities.map(fullComponent);
      if (launch && !activities.includes(launch)) activities.unshift(launch);
      this.packages.set(pkg.name, {
        name: pkg.name,
        uid: pkg.uid,
        versionCode: pkg.versionCode,
        versionName: pkg.versionName,
        path: pkg.path,
        system: pkg.system,
        ...(launch ? { launchActivity: launch } : {}),
        activities,
        instrumentation: [],
        label: pkg.label ?? pkg.name,
        ...(pkg.installer ? { installer: pkg.installer } : {}),
        persistent: pkg.persistent,
        requestedPermissions: [],
        granted: new Set(),
        minSdk: 26,
        targetSdk,
        installedAt: now - 86_400_000 * 30,
        updatedAt: now - 86_400_000 * 30,
      });
    }
  }

  /** Package of the foreground activity. */
  get foregroundPackage(): string | undefined {
    return this.foreground?.split('/')[0];
  }

  /** Brings an activity (pkg/cls) to the front, starting its process. */
  setForeground(component: string | undefined): void {
    this.foreground = component ? fullComponent(component) : undefined;
    if (this.foreground) this.startProcess(this.foreground.split('/')[0]!);
    this.core.emitChange('foreground');
  }

  /** Shows the home screen. */
  goHome(): void {
    this.setForeground(this.core.homeScreen());
  }

  /** Starts (or finds) the process of a package; returns its pid. */
  startProcess(name: string): number {
    const existing = this.processes.get(name);
    if (existing) return existing.pid;
    const pkg = this.packages.get(name.split(':')[0]!);
    const pid = this.nextPid;
    this.nextPid += 1 + Math.floor(Math.random() * 40);
    this.processes.set(name, { pid, name, uid: pkg?.uid ?? 10_000, startedAt: Date.now() });
    this.core.logLine(
      4,
      'ActivityManager',
      `Start proc ${pid}:${name}/u0a${(pkg?.uid ?? 10_000) % 10_000} for service`,
      1000,
    );
    this.core.emitChange('process');
    return pid;
  }

  /** Stops a package: its process, services, and foreground activity; returns whether anything ran. */
  forceStop(pkg: string): boolean {
    let any = false;
    for (const name of [...this.processes.keys()]) {
      if (name === pkg || name.startsWith(`${pkg}:`)) {
        this.processes.delete(name);
        any = true;
      }
    }
    for (const c of [...this.services.keys()]) if (c.startsWith(`${pkg}/`)) this.services.delete(c);
    if (this.foregroundPackage === pkg) this.goHome();
    this.onForceStop(pkg);
    this.core.logLine(
      4,
      'ActivityManager',
      `Force stopping ${pkg} appid=${(this.packages.get(pkg)?.uid ?? 0) % 100_000} user=0: from pid ${this.nextPid}`,
      1000,
    );
    this.core.emitChange('process');
    this.core.emit('force-stop', pkg);
    return any;
  }

  /** Adds or replaces a package; a replaced running app is stopped. */
  install(pkg: InstalledPackage, opts: { dontKill?: boolean } = {}): void {
    const old = this.packages.get(pkg.name);
    if (old && !opts.dontKill) this.forceStop(pkg.name);
    this.packages.set(pkg.name, pkg);
    this.core.logLine(
      4,
      'PackageManager',
      `${old ? 'Replacing' : 'Installing'} package ${pkg.name} versionCode=${pkg.versionCode}`,
      1000,
    );
    this.core.emitChange('package');
  }

  /** Removes a package; false if it was not installed. */
  uninstall(name: string): boolean {
    if (!this.packages.has(name)) return false;
    this.forceStop(name);
    this.packages.delete(name);
    this.core.logLine(4, 'PackageManager', `Removing package ${name}`, 1000);
    this.core.emitChange('package');
    return true;
  }

  /** A uid not used by any package (apps start at 10000). */
  freeUid(): number {
    const used = new Set([...this.packages.values()].map((p) => p.uid));
    let uid = 10_200;
    while (used.has(uid)) uid += 1;
    return uid;
  }

  /** Package name → uid, for PCAPdroid's app attribution. */
  uids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.packages.values()) out[p.name] = p.uid;
    return out;
  }
}
