/**
 * pm and `cmd package`: listing, paths, installs (pm install PATH and the streamed
 * `cmd package install -S SIZE` adb sends over exec:), uninstall, clear, grant/revoke.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readApkManifest } from './apk-manifest.js';
import { type CommandContext, type CommandHandler, readAllFrom } from './command.js';
import { shortComponent } from './component-name.js';
import type { InstalledPackage } from './state-types.js';

function androidBase64(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Installs the APK at a host path; returns the line pm prints and the exit status. */
export async function installApk(
  c: CommandContext,
  hostFile: string,
  opts: { grantAll: boolean; allowDowngrade: boolean; dontKill: boolean; installer?: string },
): Promise<{ line: string; code: number }> {
  const state = c.phone.state;
  if (state.system.props.get('persist.security.adbinstall') === '0') {
    return { line: 'Failure [INSTALL_FAILED_USER_RESTRICTED: Install canceled by user]', code: 1 };
  }
  let m: Awaited<ReturnType<typeof readApkManifest>>;
  try {
    m = await readApkManifest(hostFile);
  } catch (e) {
    return {
      line: `Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse /data/app/vmdl${Math.floor(Math.random() * 1e9)}.tmp/base.apk: ${(e as Error).message}]`,
      code: 1,
    };
  }
  const sdk = Number(state.system.props.get('ro.build.version.sdk') ?? '34');
  if (m.minSdk > sdk) {
    return {
      line: `Failure [INSTALL_FAILED_OLDER_SDK: Failed parse during installPackageLI: /data/app/vmdl${Math.floor(Math.random() * 1e9)}.tmp/base.apk (at Binary XML file line #7): Requires newer sdk version #${m.minSdk} (current version is #${sdk})]`,
      code: 1,
    };
  }
  const old = state.apps.packages.get(m.packageName);
  if (old && m.versionCode < old.versionCode && !opts.allowDowngrade) {
    return {
      line: `Failure [INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code ${m.versionCode} is older than current ${old.versionCode}]`,
      code: 1,
    };
  }
  const phonePath = `/data/app/~~${androidBase64(16)}/${m.packageName}-${androidBase64(16)}/base.apk`;
  const dest = c.phone.hostPath(phonePath)!;
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(hostFile, dest);
  if (old && !old.system && old.path.startsWith('/data/app/')) {
    const oldHost = c.phone.hostPath(dirname(dirname(old.path)));
    if (oldHost) await rm(oldHost, { recursive: true, force: true });
  }
  const now = Date.now();
  const pkg: InstalledPackage = {
    name: m.packageName,
    uid: old?.uid ?? state.apps.freeUid(),
    versionCode: m.versionCode,
    versionName: m.versionName,
    path: phonePath,
    system: false,
    ...(m.launchActivity ? { launchActivity: `${m.packageName}/${m.launchActivity}` } : {}),
    activities: m.activities.map((a) => `${m.packageName}/${a}`),
    instrumentation: m.instrumentation ? [m.instrumentation] : [],
    label: m.label ?? m.packageName,
    installer: opts.installer ?? old?.installer ?? 'com.android.shell',
    persistent: false,
    requestedPermissions: m.permissions,
    granted: new Set(opts.grantAll ? m.permissions : (old?.granted ?? [])),
    minSdk: m.minSdk,
    targetSdk: m.targetSdk,
    installedAt: old?.installedAt ?? now,
    updatedAt: now,
  };
  const dataDir = c.phone.hostPath(`/data/data/${m.packageName}`);
  if (dataDir) await mkdir(dataDir, { recursive: true });
  state.apps.install(pkg, { dontKill: opts.dontKill });
  return { line: 'Success', code: 0 };
}

/** Parses install options; returns the rest (the APK path, if any). */
function installOptions(args: readonly string[]) {
  const opts = {
    grantAll: false,
    allowDowngrade: false,
    dontKill: false,
    installer: undefined as string | undefined,
  };
  let size: number | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-g') opts.grantAll = true;
    else if (a === '-d') opts.allowDowngrade = true;
    else if (a === '--dont-kill') opts.dontKill = true;
    else if (a === '-S') size = Number.parseInt(args[++i] ?? '', 10);
    else if (
      a === '-i' ||
      a === '--user' ||
      a === '--abi' ||
      a === '-p' ||
      a === '--install-location' ||
      a === '--pkg'
    ) {
      if (a === '-i') opts.installer = args[i + 1];
      i++;
    } else if (a.startsWith('-')) {
      // -r -t -f --no-incremental --fastdeploy … accept and ignore
    } else rest.push(a);
  }
  return { opts, size, rest };
}

async function install(c: CommandContext, args: readonly string[]): Promise<number> {
  const { opts, size, rest } = installOptions(args);
  let hostFile: string;
  let cleanup: string | undefined;
  if (size !== undefined && Number.isFinite(size)) {
    // Streamed install: exactly SIZE bytes of APK on stdin.
    const data = await readAllFrom(c.stdin, c.signal, size);
    if (data.length < size) {
      await c.out(
        `Failure [INSTALL_FAILED_INVALID_APK: Partial file: got ${data.length} of ${size} bytes]\n`,
      );
      return 1;
    }
    const tmpPhone = `/data/app/vmdl${Math.floor(Math.random() * 1e9)}.tmp/base.apk`;
    hostFile = c.phone.hostPath(tmpPhone)!;
    await mkdir(dirname(hostFile), { recursive: true });
    await writeFile(hostFile, data);
    cleanup = dirname(hostFile);
  } else {
    const path = rest[0];
    if (!path) {
      await c.err('Error: must either specify a package size or an APK file\n');
      return 255;
    }
    const host = c.phone.hostPath(path);
    if (!host || !existsSync(host)) {
      await c.err(`Error: Unable to open file: ${path}\nConsider using a file under /data/local/tmp/\n`);
      await c.out(`Failure [INSTALL_FAILED_INVALID_URI: Error: Unable to open file: ${path}]\n`);
      return 255;
    }
    hostFile = host;
  }
  try {
    const r = await installApk(c, hostFile, opts);
    await c.out(`${r.line}\n`);
    return r.code;
  } finally {
    if (cleanup) await rm(cleanup, { recursive: true, force: true });
  }
}

function listPackages(c: CommandContext, args: readonly string[]): string {
  const flags = new Set<string>();
  let filter: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--user' || a === '--uid') i++;
    else if (a.startsWith('--')) flags.add(a);
    else if (a.startsWith('-')) for (const ch of a.slice(1)) flags.add(`-${ch}`);
    else filter = a;
  }
  const lines: string[] = [];
  const pkgs = [...c.phone.state.apps.packages.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const p of pkgs) {
    if (flags.has('-3') && p.system) continue;
    if (flags.has('-s') && !p.system) continue;
    if (flags.has('-d')) continue;
    if (filter && !p.name.includes(filter)) continue;
    let line = 'package:';
    if (flags.has('-f')) line += `${p.path}=`;
    line += p.name;
    if (flags.has('--show-versioncode')) line += ` versionCode:${p.versionCode}`;
    if (flags.has('-i')) line += `  installer=${p.installer ?? 'null'}`;
    if (flags.has('-U')) line += ` uid:${p.uid}`;
    lines.push(`${line}\n`);
  }
  return lines.join('');
}

/** `pm …` and `cmd package …` share this. */
async function pm(c: CommandContext, args: readonly string[]): Promise<number> {
  const state = c.phone.state;
  const [verb, ...rest] = args;
  const unknownPackage = async (op: string, pkg: string) => {
    await c.err(
      `Exception occurred while executing '${op}':\njava.lang.IllegalArgumentException: Unknown package: ${pkg}\n`,
    );
    return 255;
  };
  switch (verb) {
    case 'list': {
      const [what, ...more] = rest;
      if (what === 'packages') {
        await c.out(listPackages(c, more));
        return 0;
      }
      if (what === 'instrumentation') {
        const target = more.find((a) => !a.startsWith('-'));
        const lines: string[] = [];
        for (const p of state.apps.packages.values()) {
          for (const ins of p.instrumentation) {
            if (target && ins.targetPackage !== target) continue;
            lines.push(`instrumentation:${p.name}/${ins.runner} (target=${ins.targetPackage})\n`);
          }
        }
        await c.out(lines.join(''));
        return 0;
      }
      if (what === 'features') {
        await c.out(
          state.profile.features.map((f) => `feature:${f}\n`).join('') + 'reqGlEsVersion=0x30002\n',
        );
        return 0;
      }
      if (what === 'users') {
        await c.out('Users:\n\tUserInfo{0:Owner:c13} running\n');
        return 0;
      }
      if (what === 'libraries') {
        await c.out(
          'library:android.test.base\nlibrary:android.test.mock\nlibrary:android.test.runner\nlibrary:org.apache.http.legacy\n',
        );
        return 0;
      }
      await c.err(`Error: unknown list type '${what ?? ''}'\n`);
      return 255;
    }
    case 'path': {
      const name = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user')[0];
      const p = name ? state.apps.packages.get(name) : undefined;
      if (!p) return 1;
      await c.out(`package:${p.path}\n`);
      return 0;
    }
    case 'install':
      return install(c, rest);
    case 'uninstall': {
      const keepUser = rest.includes('--user');
      const name = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user').pop();
      const p = name ? state.apps.packages.get(name) : undefined;
      if (!p || (p.system && !keepUser)) {
        await c.out('Failure [DELETE_FAILED_INTERNAL_ERROR]\n');
        return 1;
      }
      state.apps.uninstall(p.name);
      if (!p.system && p.path.startsWith('/data/app/')) {
        const dir = c.phone.hostPath(dirname(dirname(p.path)));
        if (dir) await rm(dir, { recursive: true, force: true });
      }
      const data = c.phone.hostPath(`/data/data/${p.name}`);
      if (data) await rm(data, { recursive: true, force: true });
      await c.out('Success\n');
      return 0;
    }
    case 'clear': {
      const name = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user')[0];
      const p = name ? state.apps.packages.get(name) : undefined;
      if (!p) {
        await c.out('Failed\n');
        return 1;
      }
      state.apps.forceStop(p.name);
      const data = c.phone.hostPath(`/data/data/${p.name}`);
      if (data) {
        await rm(data, { recursive: true, force: true });
        await mkdir(data, { recursive: true });
      }
      p.granted.clear();
      await c.out('Success\n');
      return 0;
    }
    case 'grant':
    case 'revoke': {
      const [name, perm] = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user');
      const p = name ? state.apps.packages.get(name) : undefined;
      if (!p) return unknownPackage(verb, name ?? '');
      if (!perm) {
        await c.err(`Error: no permission specified\n`);
        return 255;
      }
      if (!p.requestedPermissions.includes(perm) && p.requestedPermissions.length > 0) {
        await c.err(
          `Exception occurred while executing '${verb}':\njava.lang.SecurityException: Package ${name} has not requested permission ${perm}\n`,
        );
        return 255;
      }
      if (verb === 'grant') p.granted.add(perm);
      else p.granted.delete(perm);
      state.emitChange('package');
      return 0;
    }
    case 'enable':
    case 'disable':
    case 'disable-user': {
      const name = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user')[0];
      if (!name || !state.apps.packages.has(name.split('/')[0]!)) return unknownPackage(verb, name ?? '');
      await c.out(
        `Package ${name} new state: ${verb === 'enable' ? 'enabled' : verb === 'disable' ? 'disabled' : 'disabled-user'}\n`,
      );
      return 0;
    }
    case 'dump':
      return c.run(`dumpsys package ${rest[0] ?? ''}`);
    case 'resolve-activity': {
      const name = rest.filter((a) => !a.startsWith('-')).pop();
      const p = name ? state.apps.packages.get(name) : undefined;
      if (!p?.launchActivity) {
        await c.out('No activity found\n');
        return 0;
      }
      await c.out(
        rest.includes('--brief')
          ? `priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false\n${shortComponent(p.launchActivity)}\n`
          : `${shortComponent(p.launchActivity)}\n`,
      );
      return 0;
    }
    default:
      await c.err(`Unknown command: ${verb ?? ''}\n`);
      return 255;
  }
}

const pmCommand: CommandHandler = (c) => pm(c, c.args);

/** `cmd SERVICE …` for package; other services are routed by the shell table. */
export function cmdPackage(c: CommandContext, args: readonly string[]): Promise<number> {
  return pm(c, args);
}

/** Package manager commands by name. */
export const packageCommands: Record<string, CommandHandler> = { pm: pmCommand };
