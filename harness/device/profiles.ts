/**
 * Device profiles (devices/NAME/profile.yaml): which phones they are for (match rules on properties),
 * and what phonehome needs to know to run scenarios on them: packages of interest, UI selectors,
 * capture settings, and where the allowlists are.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseYamlConfig } from '../config/yaml-config.js';
import { UsageError } from '../errors.js';
import { bundledDevicesDir } from '../project-dir.js';

const selectorSchema = z
  .strictObject({
    text: z.string().optional(),
    textContains: z.string().optional(),
    id: z.string().optional(),
    description: z.string().optional(),
    className: z.string().optional(),
  })
  .refine((s) => Object.keys(s).length > 0, {
    error: 'a selector needs at least one of text, textContains, id, description, className',
  });

const matchValue = z.string().superRefine((v, ctx) => {
  if (v.startsWith('/') && v.endsWith('/') && v.length > 1) {
    try {
      new RegExp(v.slice(1, -1));
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(v)} is not a regular expression: ${(e as Error).message}`,
      });
    }
  }
});

/** One UI step of a named action; selectors are names from the profile's `ui` map. */
const uiStepSchema = z.union(
  [
    z.strictObject({ tap: z.string() }),
    z.strictObject({ scrollTo: z.string() }),
    z.strictObject({ toggle: z.string(), on: z.boolean() }),
    /** Types the value of an environment variable (an account, a password: never in a file) into a field. */
    z.strictObject({
      type: z.string(),
      env: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, {
        error: 'expected an environment variable name like PHONEHOME_MI_ACCOUNT',
      }),
    }),
    /** Types text written here (a test contact's name, a message: nothing secret) into a field. */
    z.strictObject({
      type: z.string(),
      text: z
        .string()
        .min(1, { error: 'expected the text to type (1 to 500 characters)' })
        .max(500, { error: 'expected the text to type (1 to 500 characters)' }),
    }),
    z.strictObject({ back: z.literal(true) }),
    z.strictObject({ home: z.literal(true) }),
  ],
  {
    error:
      'a UI step is one of {tap: SELECTOR}, {scrollTo: TEXT}, {toggle: SELECTOR, on: BOOL}, {type: SELECTOR, env: VARIABLE}, {type: SELECTOR, text: TEXT}, {back: true}, {home: true}',
  },
);

/** A named action scenarios ask for: its UI steps (through Appium) and/or one adb shell command. */
const actionSchema = z
  .strictObject({
    /** What it does, for the report. */
    description: z.string().optional(),
    /** UI steps, used when a UI (Appium) is available. */
    ui: z.array(uiStepSchema).default([]),
    /** An adb shell command that does the same, used without a UI. */
    adb: z.string().optional(),
  })
  .refine((a) => a.ui.length > 0 || a.adb !== undefined, {
    error: 'an action needs ui steps, an adb command, or both',
  });

/** The schema of a profile file: the single source of truth for what it may hold. */
export const profileSchema = z
  .strictObject({
    /** Profile name: the folder's name. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'a profile name is lower case letters, digits and "-"' }),
    /** One line for people. */
    description: z.string(),
    /** The phone's maker: its domains and networks are this phone's first party (harness/geo/parties.ts). */
    maker: z
      .strictObject({
        /** How reports name it. */
        name: z.string().trim().min(1, { error: "the maker's name" }),
        /** Domains it runs: each domain and every name under it. */
        domains: z
          .array(
            z.string().regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
              error: 'a domain in lower case, such as xiaomi.com',
            }),
          )
          .default([]),
        /** AS numbers of its own networks. */
        asns: z.array(z.number().int().min(1).max(4294967295, { error: 'an AS number' })).default([]),
      })
      .optional(),
    /** Property → exact value (case-insensitive) or "/regex/". Every rule must match. */
    match: z
      .record(z.string(), matchValue)
      .refine((m) => Object.keys(m).length > 0, { error: 'match needs at least one property' }),
    /**
     * What this phone has that some scenarios need (themes-app: the maker's Themes app; mi-account:
     * a Mi account can be signed in …). A scenario that requires a capability the profile does not
     * declare is skipped with that reason; one it applies to must have an allowlist.
     */
    capabilities: z
      .array(
        z
          .string()
          .regex(/^[a-z][a-z0-9-]*$/, { error: 'a capability is lower case letters, digits and "-"' }),
      )
      .default([]),
    /** Packages whose behaviour the scenarios look at (reset, force-stop, app attribution). */
    packages: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/, { error: 'not a package name' }))
      .default([]),
    /** Named UI selectors for Appium steps. */
    ui: z.record(z.string(), selectorSchema).default({}),
    /** How to capture this phone's traffic. */
    capture: z
      .strictObject({
        backend: z.enum(['tcpdump', 'cap', 'pcapdroid', 'file']).default('tcpdump'),
        /** Interface to capture on; the lab config's interface when absent. */
        interface: z.string().optional(),
        /** Name of the environment variable that holds PCAPdroid's api_key (the key never goes in a file). */
        pcapdroidApiKeyEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'an environment variable name' })
          .optional(),
      })
      .default({ backend: 'tcpdump' }),
    /** Folder of per-scenario allowlists (SCENARIO.yaml layered on base.yaml), relative to the profile file. */
    allowlists: z.string().default('allowlists'),
    /** Appium capabilities for this phone's UiAutomator2 sessions (locale pinned etc.). */
    appium: z.record(z.string(), z.unknown()).default({}),
    /** Named actions scenarios use (e.g. backup.enable), each with UI steps and/or an adb command. */
    actions: z.record(z.string(), actionSchema).default({}),
  })
  .superRefine((p, ctx) => {
    for (const [name, a] of Object.entries(p.actions)) {
      a.ui.forEach((step, i) => {
        const sel =
          'tap' in step ? step.tap : 'toggle' in step ? step.toggle : 'type' in step ? step.type : undefined;
        if (sel !== undefined && !(sel in p.ui)) {
          ctx.addIssue({
            code: 'custom',
            path: ['actions', name, 'ui', i],
            message: `selector ${JSON.stringify(sel)} is not in this profile's ui map`,
          });
        }
      });
    }
  });

/** A UI step of an action. */
export type ActionUiStep = z.infer<typeof uiStepSchema>;

/** The environment variables an action's UI steps type from (accounts, passwords), in order. */
export function typedVariables(action: ProfileAction): string[] {
  return [...new Set(action.ui.flatMap((st) => ('type' in st && 'env' in st ? [st.env] : [])))];
}
/** A named action. */
export type ProfileAction = z.infer<typeof actionSchema>;

/** A device profile, as loaded. */
export type DeviceProfile = z.infer<typeof profileSchema> & {
  /** The profile file. */
  file: string;
  /** Absolute folder of the allowlists. */
  allowlistDir: string;
};

/** Validates a profile's text; `file` names it in errors and places its allowlists. Throws ConfigError. */
export function parseProfile(text: string, file: string): DeviceProfile {
  const { data } = parseYamlConfig(
    text,
    file,
    profileSchema,
    'expected a device profile with name, description, match',
  );
  return { ...data, file, allowlistDir: resolve(dirname(file), data.allowlists) };
}

/** Reads and validates one profile file. Throws ConfigError. */
export async function loadProfile(file: string): Promise<DeviceProfile> {
  return parseProfile(await readFile(file, 'utf8'), file);
}

/** Loads every devices/NAME/profile.yaml under root (the simulated phones' folder `sim` is not a profile). */
export async function loadProfiles(root = bundledDevicesDir()): Promise<DeviceProfile[]> {
  const out: DeviceProfile[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    throw new UsageError(
      `no device profiles: ${root} is not a folder (give one with --devices-dir, or devicesDir in the config)`,
      { cause: e },
    );
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const file = join(root, entry.name, 'profile.yaml');
    try {
      await readFile(file);
    } catch {
      continue;
    }
    out.push(await loadProfile(file));
  }
  return out;
}

function valueMatches(rule: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (rule.startsWith('/') && rule.endsWith('/') && rule.length > 1)
    return new RegExp(rule.slice(1, -1)).test(value);
  return rule.toLowerCase() === value.toLowerCase();
}

/** The profile for a phone: every match rule holds; the one with the most rules wins. */
export function matchProfile(
  profiles: DeviceProfile[],
  properties: Record<string, string>,
): { profile: DeviceProfile } | { profile: undefined; reason: string } {
  let best: DeviceProfile | undefined;
  let bestScore = -1;
  for (const p of profiles) {
    const rules = Object.entries(p.match);
    if (!rules.every(([k, v]) => valueMatches(v, properties[k]))) continue;
    if (rules.length > bestScore) {
      best = p;
      bestScore = rules.length;
    }
  }
  if (best) return { profile: best };
  const who = `${properties['ro.product.manufacturer'] ?? '?'} ${properties['ro.product.model'] ?? '?'}`;
  return {
    profile: undefined,
    reason: `no device profile matches this ${who} (${profiles.length} profiles tried: ${profiles.map((p) => p.name).join(', ') || 'none'})`,
  };
}

/** The allowlist file for a scenario on this profile (SCENARIO.yaml, else base.yaml). */
export function allowlistFor(profile: DeviceProfile, scenario: string): string {
  return join(profile.allowlistDir, `${scenario}.yaml`);
}
