/** Reads what pm needs from an APK's binary manifest, with @devicefarmer/adbkit-apkreader. */
import { createRequire } from 'node:module';

interface RawManifest {
  package?: string;
  versionCode?: number;
  versionName?: string;
  usesSdk?: { minSdkVersion?: number; targetSdkVersion?: number } | null;
  usesPermissions?: { name?: string }[];
  instrumentation?: { name?: string; targetPackage?: string } | null;
  application?: {
    label?: unknown;
    activities?: { name?: string }[];
    activityAliases?: { name?: string }[];
    launcherActivities?: { name?: string }[];
  };
}

interface ApkReaderModule {
  open(file: string): Promise<{ readManifest(): Promise<RawManifest> }>;
}

const require = createRequire(import.meta.url);
const ApkReader = require('@devicefarmer/adbkit-apkreader') as ApkReaderModule;

/** The manifest facts of one APK. */
export interface ApkManifest {
  /** Package name. */
  packageName: string;
  /** versionCode (0 when absent). */
  versionCode: number;
  /** versionName ("" when absent). */
  versionName: string;
  /** minSdkVersion (1 when absent). */
  minSdk: number;
  /** targetSdkVersion (minSdk when absent). */
  targetSdk: number;
  /** Requested permissions. */
  permissions: string[];
  /** Activities as fully qualified class names. */
  activities: string[];
  /** The MAIN/LAUNCHER activity, fully qualified, if any. */
  launchActivity?: string;
  /** `<instrumentation>`, if declared. */
  instrumentation?: { runner: string; targetPackage: string };
  /** android:label when it is plain text. */
  label?: string;
}

function qualify(pkg: string, cls: string): string {
  return cls.startsWith('.') ? pkg + cls : cls.includes('.') ? cls : `${pkg}.${cls}`;
}

/** Reads an APK's manifest; throws when the file is not a readable APK. */
export async function readApkManifest(file: string): Promise<ApkManifest> {
  const reader = await ApkReader.open(file);
  const m = await reader.readManifest();
  if (!m.package) throw new Error('no package name in the manifest');
  const pkg = m.package;
  const app = m.application ?? {};
  const activities = [...(app.activities ?? []), ...(app.activityAliases ?? [])]
    .map((a) => a.name)
    .filter((n): n is string => typeof n === 'string')
    .map((n) => qualify(pkg, n));
  const launcher = app.launcherActivities?.[0]?.name;
  const minSdk = m.usesSdk?.minSdkVersion ?? 1;
  const instr = m.instrumentation;
  return {
    packageName: pkg,
    versionCode: typeof m.versionCode === 'number' ? m.versionCode : 0,
    versionName: typeof m.versionName === 'string' ? m.versionName : '',
    minSdk,
    targetSdk: m.usesSdk?.targetSdkVersion ?? minSdk,
    permissions: (m.usesPermissions ?? [])
      .map((p) => p.name)
      .filter((n): n is string => typeof n === 'string'),
    activities,
    ...(launcher ? { launchActivity: qualify(pkg, launcher) } : {}),
    ...(instr?.name && instr.targetPackage
      ? { instrumentation: { runner: qualify(pkg, instr.name), targetPackage: instr.targetPackage } }
      : {}),
    ...(typeof app.label === 'string' && !app.label.startsWith('resourceId:') ? { label: app.label } : {}),
  };
}
