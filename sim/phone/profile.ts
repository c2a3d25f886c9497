/**
 * The device profile of a simulated phone (devices/sim/NAME.yaml): the facts a real phone of that model
 * shows over adb. The zod schema is the single source of truth; PhoneProfile is inferred from it.
 * Traffic behaviour lives elsewhere (devices/sim/NAME.traffic.yaml); this file holds device facts only.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SimConfigError } from '../errors.js';
import { YamlSource } from '../yaml-source.js';
import {
  addScreenActivities,
  checkScreens,
  normaliseScreens,
  parseScreens,
  readScreensFile,
  screenSetSchema,
  screensFileOf,
} from './screens.js';

/** Property and setting values are text on a phone; YAML numbers would lose "1.0" vs "1", so quote them. */
const text = z.string({ error: 'expected a string (quote numbers and booleans: "1")' });

const packageName = z
  .string({ error: 'expected a package name' })
  .regex(/^[A-Za-z][\w]*(?:\.[A-Za-z_][\w]*)*$/, { error: 'expected a package name like com.example.app' });

const settingRef = z.strictObject({
  /** Settings table: global, secure or system. */
  namespace: z.enum(['global', 'secure', 'system']),
  /** Setting key. */
  key: z.string().min(1),
  /** The value that means "on"; anything else (or no value) means off. */
  on: text.default('1'),
  /** The switch's label on the Settings screen (what a UI test taps). */
  label: z.string().min(1).optional(),
});

/** One installed package. */
/** True when the last digit is the Luhn check digit of the first 14, as in every real IMEI. */
function imeiCheckDigitValid(imei: string): boolean {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = imei.charCodeAt(i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

const imeiSchema = z
  .string()
  .regex(/^\d{15}$/, { error: 'expected a 15-digit IMEI' })
  .refine(imeiCheckDigitValid, { error: 'the last digit is not the check digit (Luhn) of the first 14' });

export const packageSchema = z.strictObject({
  /** Package name. */
  name: packageName,
  /** Linux uid of the app (1000 for apps sharing the system uid, 10000+ for apps). */
  uid: z.number().int().min(0),
  /** versionCode. */
  versionCode: z.number().int().min(0),
  /** versionName. */
  versionName: z.string(),
  /** Path of base.apk on the phone. */
  path: z.string().startsWith('/'),
  /** Preinstalled in the system image (pm list packages -s). */
  system: z.boolean().default(false),
  /** Launcher activity, as "pkg/.Activity" or "pkg/full.ClassName". */
  launchActivity: z.string().optional(),
  /** Other activities that exist (am start -n of anything else fails as on a real phone). */
  activities: z.array(z.string()).default([]),
  /** Human-readable app name, drawn on screen. */
  label: z.string().optional(),
  /** Installer package (pm list packages -i). */
  installer: z.string().optional(),
  /** Has a process running from boot (persistent system services such as push). */
  persistent: z.boolean().default(false),
});

/** A signed-in account. */
export const accountSchema = z.strictObject({
  /** Account type, e.g. com.google or com.xiaomi. */
  type: z.string().min(1),
  /** Account name, e.g. an e-mail address or Mi account number. */
  name: z.string().min(1),
});

/** One device profile file. */
export const phoneProfileSchema = z.strictObject(
  {
    /** Saved-format version of this file. */
    formatVersion: z.literal(1, { error: 'expected formatVersion: 1' }),
    /** Free text for people. */
    description: z.string().optional(),
    /** ADB banner facts (CNXN): product/model/device as `adb devices -l` shows them. */
    banner: z.strictObject({
      product: z.string().min(1),
      model: z.string().min(1),
      device: z.string().min(1),
    }),
    /** The full getprop set, key → value (ro.serialno etc. are filled from identifiers when absent). */
    properties: z.record(z.string(), text),
    /** Settings at first boot, per table. */
    settings: z.strictObject({
      global: z.record(z.string(), text).default({}),
      secure: z.record(z.string(), text).default({}),
      system: z.record(z.string(), text).default({}),
    }),
    /**
     * Which settings stand for the consent toggles of TrafficState. On real phones these live in vendor
     * apps' private preferences; the simulator exposes each as a setting so `settings put` can flip it.
     */
    consent: z.strictObject({
      /** Cloud backup (TrafficState.backupEnabled). */
      backupEnabled: settingRef,
      /** Analytics / user experience program (TrafficState.analyticsConsent). */
      analyticsConsent: settingRef,
      /** Personalised ads (TrafficState.adsConsent). */
      adsConsent: settingRef,
      /**
       * Cloud messaging: SMS synced through the maker's cloud, which registers the SIM's number
       * (TrafficState.cloudMessaging); only phones whose maker offers it.
       */
      cloudMessaging: settingRef.optional(),
      /**
       * Location (TrafficState.locationOn): Android keeps it in secure location_mode, 0 off and 3
       * (high accuracy) when the switch is turned on; any value but 0 counts as on.
       */
      locationOn: settingRef.optional(),
    }),
    /** Cloud backup: which package runs it and the broadcast action that starts one ("Back up now"). */
    backup: z.strictObject({
      package: packageName,
      startAction: z.string().min(1),
      /** How long a backup runs, in seconds. */
      durationSeconds: z.number().positive().default(60),
    }),
    /** Account type whose presence means "vendor account signed in" (TrafficState.accountSignedIn). */
    vendorAccountType: z.string().min(1),
    /** How the vendor account is labelled on the Settings screen, and who signs in when it is tapped. */
    accountUi: z
      .strictObject({
        label: z.string().min(1),
        signInAs: z.string().min(1),
      })
      .optional(),
    /** Accounts signed in at first boot. */
    accounts: z.array(accountSchema).default([]),
    /** Device identifiers. */
    identifiers: z.strictObject({
      imei: imeiSchema,
      imei2: imeiSchema.optional(),
      /** Settings.Secure.ANDROID_ID: 16 hex digits. */
      androidId: z.string().regex(/^[0-9a-f]{16}$/, { error: 'expected 16 lowercase hex digits' }),
      /** Hardware serial (ro.serialno); also the adb serial unless one is given. */
      serial: z.string().regex(/^[A-Za-z0-9]{6,20}$/, { error: 'expected 6–20 letters and digits' }),
      /** Google advertising ID (a UUID). */
      advertisingId: z.string().uuid({ error: 'expected a UUID' }),
      /** The SIM's subscriber id, told while a SIM is inserted. */
      imsi: z
        .string()
        .regex(/^\d{6,15}$/, { error: 'expected 6–15 digits' })
        .optional(),
      /** The SIM card's serial (ICCID), told while a SIM is inserted. */
      iccid: z
        .string()
        .regex(/^89\d{16,18}$/, { error: 'expected 18–20 digits starting 89' })
        .optional(),
      /** The line-1 phone number, told while a SIM is inserted. */
      phoneNumber: z
        .string()
        .regex(/^\+?\d{3,20}$/, { error: 'expected a phone number' })
        .optional(),
      /** Settings.Secure.bluetooth_address. */
      bluetoothMac: z
        .string()
        .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, { error: 'expected a lower-case MAC address' })
        .optional(),
    }),
    /** SIM card. */
    sim: z.strictObject({
      inserted: z.boolean(),
      /** Operator name shown when inserted (gsm.operator.alpha). */
      operator: z.string().default(''),
      /** MCC+MNC (gsm.operator.numeric). */
      numeric: z.string().default(''),
      /** ISO country (gsm.operator.iso-country). */
      country: z.string().default(''),
    }),
    /** `su` works. */
    rooted: z.boolean(),
    /** PCAPdroid, when it is among the packages: the API key set in its "Control permissions". */
    pcapdroid: z
      .strictObject({
        /** The key that skips the consent prompt; without one every start prompts. */
        apiKey: z.string().min(8).optional(),
      })
      .optional(),
    /** Display. */
    screen: z.strictObject({
      width: z.number().int().min(100),
      height: z.number().int().min(100),
      density: z.number().int().min(100),
      /** Lock screen kind: none (no keyguard), swipe, or pin (needs the PIN; wm dismiss-keyguard cannot). */
      lock: z.enum(['none', 'swipe', 'pin']).default('swipe'),
      /** The PIN of a pin lock (typed with `input text` or digit keyevents, then ENTER). */
      pin: z
        .string()
        .regex(/^\d{4,16}$/, { error: 'expected 4–16 digits' })
        .optional(),
    }),
    /** Home screen activity (what HOME and `input keyevent 3` show). */
    homeActivity: z.string().regex(/^[\w.]+\/[\w.$]+$/, { error: 'expected pkg/activity' }),
    /**
     * What a factory reset leaves: the phone boots into its setup wizard (`activity`, which HOME does
     * not leave until setup is done), with the settings the wizard offers at their defaults (optional
     * settings on until turned off). Without it the phone cannot be reset.
     */
    setupWizard: z
      .strictObject({
        activity: z.string().regex(/^[\w.]+\/[\w.$]+$/, { error: 'expected pkg/activity' }),
        defaults: z
          .strictObject({
            global: z.record(z.string(), text).default({}),
            secure: z.record(z.string(), text).default({}),
            system: z.record(z.string(), text).default({}),
          })
          .default({ global: {}, secure: {}, system: {} }),
      })
      .optional(),
    /** Battery at boot. */
    battery: z.strictObject({
      level: z.number().int().min(0).max(100),
      /** °C. */
      temperature: z.number(),
    }),
    /** Wi-Fi network the phone joins. */
    wifi: z.strictObject({ ssid: z.string().min(1) }),
    /** Installed packages at first boot. */
    packages: z.array(packageSchema).min(1),
    /** pm list features. */
    features: z.array(z.string()).default([]),
    /**
     * App screens as data, by activity (see screens.ts); usually in NAME.screens.yaml beside the
     * profile, which loadPhoneProfile merges in. Activities without one show a generic app screen.
     */
    screens: screenSetSchema.optional(),
  },
  { error: 'expected a mapping with formatVersion, banner, properties, settings, packages …' },
);

export type PhoneProfile = z.infer<typeof phoneProfileSchema>;
export type ProfilePackage = z.infer<typeof packageSchema>;
export type ProfileAccount = z.infer<typeof accountSchema>;
export type ConsentToggle = keyof PhoneProfile['consent'];

/** Parses a profile's YAML text; `file` names it in errors. Throws SimConfigError at the first problem. */
export function parsePhoneProfile(yamlText: string, file: string): PhoneProfile {
  const source = new YamlSource(yamlText, file);
  const parsed = phoneProfileSchema.safeParse(source.data());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    source.fail(issue.path, issue.message);
  }
  const profile = parsed.data!;
  const names = new Set<string>();
  profile.packages.forEach((p, i) => {
    if (names.has(p.name)) source.fail(['packages', i, 'name'], `${p.name} is listed twice`);
    names.add(p.name);
  });
  if (profile.screens) {
    const problem = checkScreens(profile.screens, profile);
    if (problem) source.fail(problem.path, problem.message);
    profile.screens = normaliseScreens(profile.screens);
    addScreenActivities(profile, profile.screens);
  }
  return profile;
}

/** Reads and checks a device profile file. */
export async function loadPhoneProfile(file: string): Promise<PhoneProfile> {
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (e) {
    throw new SimConfigError(file, 0, 0, '', `cannot read the device profile: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const profile = parsePhoneProfile(body, file);
  // The screens file beside the profile (devices/sim/NAME.screens.yaml), when there is one.
  const screensFile = screensFileOf(file);
  const screensText = await readScreensFile(screensFile);
  if (screensText !== undefined) {
    const screens = normaliseScreens(parseScreens(screensText, screensFile, profile));
    profile.screens = { ...profile.screens, ...screens };
    addScreenActivities(profile, screens);
  }
  return profile;
}
