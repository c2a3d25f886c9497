/**
 * The lab's settings file, phonehome.config.{js,mjs,json}: one zod schema, the single source of truth
 * for what may be written there; the TypeScript types are inferred from it. Every field is optional:
 * a missing one takes phonehome's default, and a command-line flag overrides the file.
 */
import { z } from 'zod';
import { parseCidr } from '../packets/ip-prefix.js';
import { LAB_HOOK_NAMES, type LabHook } from './lab-hooks.js';

const port = z.number().int().min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535');

/** A DNS name of at least two labels, letters, digits and hyphens (the canary domain). */
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** How traffic is recorded. */
export const captureConfigSchema = z.strictObject({
  /** tcpdump on the lab access point (default), cap (libpcap in-process) or pcapdroid (on the phone). */
  backend: z.enum(['tcpdump', 'cap', 'pcapdroid']).optional(),
  /** The lab access point's interface, for phones that bring none. */
  interface: z.string().min(1, 'an interface name').optional(),
  /** Bytes kept of each packet (0: whole packets). */
  snaplen: z.number().int().min(0).max(262144, 'at most 262144').optional(),
});

/** The adb server phonehome talks to. */
export const adbConfigSchema = z.strictObject({
  /** Host of the adb server (default 127.0.0.1). */
  host: z.string().min(1, 'a host name or address').optional(),
  /** Port of the adb server (default $ANDROID_ADB_SERVER_PORT or 5037). */
  port: port.optional(),
  /** The adb program that starts the server when none runs (default $PHONEHOME_ADB or adb). */
  bin: z.string().min(1, 'a program name or path').optional(),
});

/**
 * Appium for UI steps: a remote server by URL, or one phonehome starts itself. Without the key,
 * phonehome starts its own when the UiAutomator2 driver is installed (make setup installs it);
 * `false` turns UI automation off.
 */
export const appiumConfigSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** A running Appium server, e.g. http://appium.lab:4723. */
    url: z.url({ message: 'an http(s) URL', protocol: /^https?$/ }),
  }),
  z.strictObject({
    /** Start Appium on this host; `port` picks its port (default: a free one). */
    local: z.strictObject({ port: port.optional() }),
  }),
]);

const overrideCidr = z.string().superRefine((v, ctx) => {
  const r = parseCidr(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} ${r.problem}` });
});

/** One override as written. */
export const overrideSchema = z.strictObject({
  /** The addresses it is about: an IPv4 or IPv6 prefix, no host bits set. */
  cidr: overrideCidr,
  /** ISO 3166-1 alpha-2 code (CN is mainland China; HK, MO and TW are their own codes). */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter ISO 3166-1 country code in capitals, such as SG or CN')
    .optional(),
  /** Who runs these addresses. */
  org: z.string().trim().min(1, 'an organisation name').optional(),
  /** Their AS number, when known. */
  asn: z
    .number()
    .int()
    .min(1, 'an AS number from 1')
    .max(4294967295, 'an AS number up to 4294967295')
    .optional(),
  /** Why the lab says so: shown wherever the override is used. */
  note: z
    .string({ error: 'every override needs a note saying where its answer comes from' })
    .trim()
    .min(1, 'every override needs a note saying where its answer comes from'),
});

/** An override file. */
export const overrideFileSchema = z.strictObject(
  {
    description: z.string().optional(),
    overrides: z.array(overrideSchema, { error: 'expected a list of overrides' }),
  },
  { error: 'expected a mapping with overrides: a list of {cidr, country, org, note}' },
);

export type OverrideSpec = z.infer<typeof overrideSchema>;

/** Where the traffic goes (harness/geo): the offline databases and the lab's own answers. */
export const geoConfigSchema = z.strictObject({
  /** false: open no location database (countries and networks unknown; overrides still apply). */
  databases: z.boolean().optional(),
  /** The lab's answers for addresses no database can know: [{cidr, country, org, asn, note}]. */
  overrides: z.array(overrideSchema).optional(),
  /** Files of overrides (YAML: overrides: [...]), relative to the working folder. */
  overrideFiles: z.array(z.string().min(1, 'a file')).optional(),
  /** `phonehome db` warns when a database is older than this many days (default 180). */
  maxAgeDays: z.number().int().min(1, 'at least 1 day').optional(),
});

/** Baselines and drift (harness/drift): where accepted runs are kept, and whether runs are accepted. */
export const historyConfigSchema = z.strictObject({
  /** The history folder (default OUT/history). */
  dir: z.string().min(1, 'a folder').optional(),
  /** Accept every analysed run (passed or failed) into its baseline after the suite (default false). */
  accept: z.boolean().optional(),
  /** Accepted runs kept per profile and scenario (default 10). */
  keep: z.number().int().min(1, 'at least 1').optional(),
});

/** A regular expression mitmproxy and phonehome can both read (no JavaScript-only syntax checked here). */
const hostPattern = z
  .string()
  .min(1, 'a regular expression')
  .refine(
    (s) => {
      try {
        new RegExp(s, 'i');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a regular expression such as ^android\\.clients\\.google\\.com$' },
  );

/** TLS interception (harness/mitm): mitmproxy where the lab routes the phone's traffic. */
export const interceptConfigSchema = z.strictObject({
  mode: z.literal('mitmproxy'),
  /** Hosts passed through untouched (mitmproxy's --ignore-hosts: matched against the SNI and the address). */
  ignoreHosts: z.array(hostPattern).optional(),
  /** mitmproxy's folder, holding the lab's CA (default ~/.local/share/phonehome/mitmproxy). */
  confdir: z.string().min(1, 'a folder').optional(),
  /** Install the CA on rooted phones that lack it, before each run (default true). */
  installCa: z.boolean().optional(),
  /** Interception that did not work: the run is broken (default), or a warning. */
  onFailure: z.enum(['broken', 'warn']).optional(),
  /** Bytes of each body kept in exchanges.jsonl (default 65536). */
  bodyCap: z
    .number()
    .int()
    .min(0)
    .max(16 << 20)
    .optional(),
  /** The interface the phones' packets come in on, for real phones (default: the capture interface). */
  lanInterface: z.string().min(1, 'an interface').optional(),
});

/** The whole file. */
export const phonehomeConfigSchema = z.strictObject({
  /** TLS interception; false or absent: none. */
  intercept: z.union([z.literal(false), interceptConfigSchema]).optional(),
  geo: geoConfigSchema.optional(),
  /** Baselines for drift; false: drift is not looked for. */
  history: z.union([z.literal(false), historyConfigSchema]).optional(),
  capture: captureConfigSchema.optional(),
  adb: adbConfigSchema.optional(),
  appium: appiumConfigSchema.optional(),
  /** Folder of device profiles and their allowlists (default devices). */
  devicesDir: z.string().min(1, 'a folder').optional(),
  /** At most this many phones run at once (default: all of them). */
  parallelism: z.number().int().min(1, 'at least 1').optional(),
  /** Canaries are start-RUNID.DOMAIN and end-RUNID.DOMAIN (default canary.phonehome.test, config/canary.ts). */
  canaryDomain: z
    .string()
    .regex(HOST_NAME, 'a DNS name such as canary.phonehome.test (lower case, two labels or more)')
    .optional(),
  /** Output folder: runs/ and allure-results/ (default reports). */
  out: z.string().min(1, 'a folder').optional(),
  /**
   * The lab's command for each hook scenarios use (argv, no shell; `{serial}` is the phone's adb
   * serial), e.g. `'sim.insert': ['simswitch', '--phone', '{serial}', 'in']`. A scenario that needs a
   * hook the lab does not give is skipped, naming it.
   */
  hooks: z
    .partialRecord(
      z.enum(LAB_HOOK_NAMES as [LabHook, ...LabHook[]], {
        error: `a lab hook: ${LAB_HOOK_NAMES.join(', ')}`,
      }),
      z
        .array(z.string().min(1, 'a word of the command'))
        .min(1, 'a command: its program, then its arguments'),
    )
    .optional(),
  /** Scenarios run when the command line names none (default: all built-in scenarios). */
  scenarios: z.array(z.string().min(1, 'a scenario name')).min(1, 'at least one scenario').optional(),
});

/** A phonehome.config file as written (what defineConfig accepts). */
export type PhonehomeConfig = z.input<typeof phonehomeConfigSchema>;
/** Capture settings. */
export type CaptureSettings = NonNullable<PhonehomeConfig['capture']>;
/** Appium settings. */
export type AppiumSettings = NonNullable<PhonehomeConfig['appium']>;
