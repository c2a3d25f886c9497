/**
 * App screens as data (devices/sim/NAME.screens.yaml, or a `screens:` section of the profile): per
 * activity, a title bar and a tree of views as a UiAutomator dump shows them, each view with its class,
 * resource-id, text, content-desc, a checked state bound to a setting, and what a tap does. The screen
 * model lays them out at the phone's density; taps reach the phone's state (and so its traffic) through
 * the same named actions as the built-in screens.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SimConfigError } from '../errors.js';
import { type PathKey, YamlSource } from '../yaml-source.js';
import { fullComponent } from './component-name.js';

const component = z
  .string({ error: 'expected an activity as pkg/.Activity' })
  .regex(/^[A-Za-z][\w.]*\/[\w.$]+$/, { error: 'expected an activity as pkg/.Activity or pkg/full.Class' });

/** A setting as "namespace key", e.g. "secure upload_log_pref". */
const settingName = z
  .string({ error: 'expected a setting as "secure KEY", "global KEY" or "system KEY"' })
  .regex(/^(global|secure|system) \S+$/, {
    error: 'expected a setting as "secure KEY", "global KEY" or "system KEY"',
  });

/** What a tap does. */
const resourceId = z
  .string()
  .regex(/^[\w.]+:id\/\w+$/, { error: 'expected a resource-id like android:id/title' });

const tapSchema = z.union(
  [
    /** finishSetup: the setup wizard's last button (setup done, the launcher shows). */
    z.enum(['back', 'home', 'backupNow', 'account', 'finishSetup']),
    z.strictObject({ launch: component }),
    z.strictObject({ toggle: settingName }),
    /** Opens the vendor account's page: the signed-in one or the sign-in form, as the phone is. */
    z.strictObject({ accountPage: z.strictObject({ signedIn: component, signedOut: component }) }),
    /**
     * Submits a sign-in form: with text typed in both fields, the vendor account is signed in under
     * the typed name and `opens` opens; with a field empty, nothing happens (the form stays).
     */
    z.strictObject({
      signIn: z.strictObject({ account: resourceId, password: resourceId, opens: component }),
    }),
    /** Signs the vendor account out and opens `opens`. */
    z.strictObject({ signOut: z.strictObject({ opens: component }) }),
    /**
     * Saves a contact from an editor: with text typed in both fields, a contact with that name and
     * number is added, the app has it open and `opens` opens; with a field empty, the editor stays.
     */
    z.strictObject({
      saveContact: z.strictObject({ name: resourceId, number: resourceId, opens: component }),
    }),
    /** Opens the contact at this index (a `contactList` makes these taps) on the screen `opens`. */
    z.strictObject({
      openContact: z.strictObject({ index: z.number().int().min(0), opens: component }),
    }),
    /** Deletes the contact the app has open and opens `opens`. */
    z.strictObject({ deleteContact: z.strictObject({ opens: component }) }),
    /**
     * Sends an SMS from a compose screen: with a recipient and text typed, the message goes out over
     * the SIM and `opens` opens; with a field empty or no SIM in, the screen stays.
     */
    z.strictObject({ sendSms: z.strictObject({ to: resourceId, body: resourceId, opens: component }) }),
  ],
  {
    error:
      'expected a tap: back, home, backupNow, account, finishSetup, {launch: pkg/.Activity}, {toggle: "secure KEY"}, ' +
      '{accountPage: {signedIn, signedOut}}, {signIn: {account, password, opens}}, {signOut: {opens}}, ' +
      '{saveContact: {name, number, opens}}, {openContact: {index, opens}}, {deleteContact: {opens}} or ' +
      '{sendSms: {to, body, opens}}',
  },
);

/** A tap in the file. */
export type ScreenTap = z.infer<typeof tapSchema>;

/** A Settings-style row (AOSP Preference): title, summary, optional switch in its widget frame. */
const preferenceSchema = z.strictObject({
  /** Row title (android:id/title). */
  title: z.string().min(1),
  /** Second line (android:id/summary). */
  summary: z.string().optional(),
  /** The setting the row's Switch shows; a tap on the row flips it unless `tap` says otherwise. */
  switch: settingName.optional(),
  /** What a tap on the row does. */
  tap: tapSchema.optional(),
  /** Resource-id of the row itself (none by default, as in AOSP). */
  id: z.string().optional(),
});

/** The phone's contacts as a list: one row per contact (name, number); a tap opens it. */
const contactListSchema = z.strictObject({
  /** The screen a row opens (the contact's page). */
  opens: component,
  /** Resource-id of each row's name. */
  nameId: resourceId,
  /** Resource-id of each row's number. */
  numberId: resourceId,
});

/**
 * One view: a generic view, a `preference` row or a `contactList`. A view's text may show the open
 * contact's "{contact.name}" and "{contact.number}".
 */
export interface ViewSpec {
  /** A Settings row, expanded to LinearLayout › RelativeLayout › title/summary + widget_frame › Switch. */
  preference?: z.infer<typeof preferenceSchema>;
  /** The phone's contacts, a row each. */
  contactList?: z.infer<typeof contactListSchema>;
  /** Android widget class (default android.widget.LinearLayout, or TextView for a view with text). */
  class?: string;
  /** Resource-id, "pkg:id/name". */
  id?: string;
  /** Text shown. */
  text?: string;
  /** Content description. */
  desc?: string;
  /** Height in dp (default: what the children need, or the class's usual height). */
  height?: number;
  /** Width in dp, inside a `row` layout (default: an equal share of what is left). */
  width?: number;
  /** How children are placed: stacked (column), side by side (row) or in a grid. */
  layout?: 'column' | 'row' | 'grid';
  /** Grid columns. */
  columns?: number;
  /** Inner padding in dp (also the gap between grid cells). */
  padding?: number;
  /** Reacts to taps (default: when it has a tap). */
  clickable?: boolean;
  /** A scrolling list (RecyclerView, ListView, ScrollView). */
  scrollable?: boolean;
  /** The setting its checked state shows (makes it checkable). */
  checked?: string;
  /** What a tap does. */
  tap?: ScreenTap;
  /** Enabled (default true); a disabled view ignores taps. */
  enabled?: boolean;
  /** Child views. */
  children?: ViewSpec[];
}

const viewSchema: z.ZodType<ViewSpec> = z.lazy(() =>
  z
    .strictObject({
      preference: preferenceSchema.optional(),
      contactList: contactListSchema.optional(),
      class: z
        .string()
        .regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)+$/, {
          error: 'expected a class name like android.widget.TextView',
        })
        .optional(),
      id: z
        .string()
        .regex(/^[\w.]+:id\/\w+$/, { error: 'expected a resource-id like android:id/title' })
        .optional(),
      text: z.string().optional(),
      desc: z.string().optional(),
      height: z.number().positive().optional(),
      width: z.number().positive().optional(),
      layout: z.enum(['column', 'row', 'grid']).optional(),
      columns: z.number().int().min(1).optional(),
      padding: z.number().min(0).optional(),
      clickable: z.boolean().optional(),
      scrollable: z.boolean().optional(),
      checked: settingName.optional(),
      tap: tapSchema.optional(),
      enabled: z.boolean().optional(),
      children: z.array(viewSchema).optional(),
    })
    .refine((v) => v.preference === undefined || Object.keys(v).length === 1, {
      error: 'a preference row stands alone: put its fields under `preference:`',
    })
    .refine((v) => v.contactList === undefined || Object.keys(v).length === 1, {
      error: 'a contact list stands alone: put its fields under `contactList:`',
    }),
);

/** One screen: an activity's title bar and content. */
export const screenSchema = z.strictObject({
  /** Title in the action bar (android:id/title). */
  title: z.string(),
  /** Where the action bar's "Navigate up" arrow goes; no arrow when absent. */
  up: component.optional(),
  /** Views below the action bar, top to bottom. */
  content: z.array(viewSchema).default([]),
});

export type ScreenSpec = z.infer<typeof screenSchema>;

/** Screens by activity component. */
export const screenSetSchema = z.record(component, screenSchema);

/** A screens file. */
const screensFileSchema = z.strictObject(
  {
    formatVersion: z.literal(1, { error: 'expected formatVersion: 1' }),
    /** The device profile these screens belong to (for people; not checked). */
    profile: z.string().optional(),
    /** Free text for people. */
    description: z.string().optional(),
    screens: screenSetSchema,
  },
  { error: 'expected a mapping with formatVersion: 1 and screens' },
);

/** The consent toggles a screen can flip (the phone profile's consent: block names their settings). */
export type ConsentToggle =
  | 'backupEnabled'
  | 'analyticsConsent'
  | 'adsConsent'
  | 'cloudMessaging'
  | 'locationOn';

/** Every consent toggle, in the order Settings lists them. */
export const CONSENT_TOGGLES: readonly ConsentToggle[] = [
  'backupEnabled',
  'analyticsConsent',
  'adsConsent',
  'cloudMessaging',
  'locationOn',
];

/**
 * What screens are checked against and added to: the phone profile's packages and consent settings
 * (profile.ts's PhoneProfile fits; screens are part of a profile, so this file cannot import it).
 */
export interface ScreensProfile {
  /** Installed packages and their activities. */
  packages: { name: string; activities: string[]; launchActivity?: string | undefined }[];
  /** The setting each consent toggle stands for. */
  consent: Partial<Record<ConsentToggle, { namespace: string; key: string }>>;
}

/** A problem found by checking screens against the profile: where and what. */
export interface ScreenProblem {
  path: PathKey[];
  message: string;
}

/** The consent toggle a setting stands for, if any. */
export function consentOfSetting(profile: ScreensProfile, setting: string): ConsentToggle | undefined {
  const [ns, key] = setting.split(' ') as [string, string];
  for (const t of CONSENT_TOGGLES) {
    const ref = profile.consent[t];
    if (ref && ref.namespace === ns && ref.key === key) return t;
  }
  return undefined;
}

/**
 * Checks what the schema cannot: toggles flip only settings the phone's consent block names (the
 * simulator's state knows no others), and launches go to installed packages. Returns the first problem.
 */
export function checkScreens(
  screens: Record<string, ScreenSpec>,
  profile: ScreensProfile,
  base: PathKey[] = ['screens'],
): ScreenProblem | undefined {
  const installed = new Set(profile.packages.map((p) => p.name));
  const checkTap = (tap: ScreenTap | undefined, path: PathKey[]): ScreenProblem | undefined => {
    if (tap === undefined || typeof tap === 'string') return undefined;
    const opens = (c: string, at: PathKey[]): ScreenProblem | undefined => {
      const pkg = c.split('/')[0]!;
      return installed.has(pkg)
        ? undefined
        : { path: at, message: `${pkg} is not among the profile's packages` };
    };
    if ('launch' in tap) return opens(tap.launch, [...path, 'launch']);
    if ('accountPage' in tap)
      return (
        opens(tap.accountPage.signedIn, [...path, 'accountPage', 'signedIn']) ??
        opens(tap.accountPage.signedOut, [...path, 'accountPage', 'signedOut'])
      );
    if ('signIn' in tap) return opens(tap.signIn.opens, [...path, 'signIn', 'opens']);
    if ('signOut' in tap) return opens(tap.signOut.opens, [...path, 'signOut', 'opens']);
    if ('saveContact' in tap) return opens(tap.saveContact.opens, [...path, 'saveContact', 'opens']);
    if ('openContact' in tap) return opens(tap.openContact.opens, [...path, 'openContact', 'opens']);
    if ('deleteContact' in tap) return opens(tap.deleteContact.opens, [...path, 'deleteContact', 'opens']);
    if ('sendSms' in tap) return opens(tap.sendSms.opens, [...path, 'sendSms', 'opens']);
    return consentOfSetting(profile, tap.toggle)
      ? undefined
      : {
          path: [...path, 'toggle'],
          message: `"${tap.toggle}" is not one of the profile's consent settings (consent: …), the only ones a tap can flip`,
        };
  };
  const checkView = (v: ViewSpec, path: PathKey[]): ScreenProblem | undefined => {
    if (v.preference) {
      const p = v.preference;
      const tapProblem = checkTap(p.tap, [...path, 'preference', 'tap']);
      if (tapProblem) return tapProblem;
      if (p.switch !== undefined && p.tap === undefined && !consentOfSetting(profile, p.switch))
        return {
          path: [...path, 'preference', 'switch'],
          message: `"${p.switch}" is not one of the profile's consent settings (consent: …), the only ones a tap can flip; give the row a tap of its own`,
        };
      return undefined;
    }
    if (v.contactList) {
      const pkg = v.contactList.opens.split('/')[0]!;
      if (!installed.has(pkg))
        return {
          path: [...path, 'contactList', 'opens'],
          message: `${pkg} is not among the profile's packages`,
        };
    }
    const tapProblem = checkTap(v.tap, [...path, 'tap']);
    if (tapProblem) return tapProblem;
    for (const [i, c] of (v.children ?? []).entries()) {
      const problem = checkView(c, [...path, 'children', i]);
      if (problem) return problem;
    }
    return undefined;
  };
  for (const [name, screen] of Object.entries(screens)) {
    const pkg = name.split('/')[0]!;
    if (!installed.has(pkg))
      return { path: [...base, name], message: `${pkg} is not among the profile's packages` };
    if (screen.up !== undefined) {
      const problem = checkTap({ launch: screen.up }, [...base, name, 'up']);
      if (problem) return { ...problem, path: [...base, name, 'up'] };
    }
    for (const [i, v] of screen.content.entries()) {
      const problem = checkView(v, [...base, name, 'content', i]);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Screens keyed by fully qualified component ("pkg/pkg.Cls"), as the device state names activities. */
export function normaliseScreens(screens: Record<string, ScreenSpec>): Record<string, ScreenSpec> {
  const out: Record<string, ScreenSpec> = {};
  for (const [name, screen] of Object.entries(screens)) out[fullComponent(name)] = screen;
  return out;
}

/** The screens file beside a profile: devices/sim/NAME.yaml → devices/sim/NAME.screens.yaml. */
export function screensFileOf(profileFile: string): string {
  return profileFile.replace(/(\.ya?ml)?$/, '.screens.yaml');
}

/**
 * Parses a screens file and checks it against its profile; `file` names it in errors. Throws
 * SimConfigError at the first problem, with line and column.
 */
export function parseScreens(
  yamlText: string,
  file: string,
  profile: ScreensProfile,
): Record<string, ScreenSpec> {
  const source = new YamlSource(yamlText, file);
  const parsed = screensFileSchema.safeParse(source.data());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    source.fail(issue.path, issue.message);
  }
  const screens = parsed.data!.screens;
  const problem = checkScreens(screens, profile);
  if (problem) source.fail(problem.path, problem.message);
  return screens;
}

/** Reads the screens file of a profile, if there is one. */
export async function readScreensFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SimConfigError(file, 0, 0, '', `cannot read the screens file: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Adds every screen's activity to its package's activities (so `am start -n` finds it). */
export function addScreenActivities(profile: ScreensProfile, screens: Record<string, ScreenSpec>): void {
  for (const name of Object.keys(screens)) {
    const full = fullComponent(name);
    const pkg = profile.packages.find((p) => p.name === full.split('/')[0]);
    if (!pkg) continue;
    const known = [...pkg.activities, ...(pkg.launchActivity ? [pkg.launchActivity] : [])].map(fullComponent);
    if (!known.includes(full)) pkg.activities.push(name);
  }
}
