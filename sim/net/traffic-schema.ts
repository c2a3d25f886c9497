/**
 * The schema of a simulated phone's traffic behaviour file (devices/sim/NAME.traffic.yaml): which app
 * contacts which hosts, how, how often and how much, in which phone states; plus named misbehaviours
 * that `sim up --misbehave` switches on. A bad file fails with file:line:column.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SimConfigError } from '../errors.js';
import { YamlSource } from '../yaml-source.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** A duration as "250ms", "30s", "10m", "1h", or a number of seconds. */
const duration = z.union([
  z.number().positive(),
  z.string().regex(DURATION, 'a duration like "30s", "10m" or "1h"'),
]);

/** Seconds in a duration written as the schema allows. */
export function durationSeconds(d: number | string): number {
  if (typeof d === 'number') return d;
  const m = DURATION.exec(d)!;
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const hostName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/,
    'a lower-case host name',
  );

/** A DNS-SD service type under .local (RFC 6763): "_service._tcp.local" or "_service._udp.local". */
const serviceType = z
  .string()
  .regex(/^_[a-z0-9-]{1,15}\._(tcp|udp)\.local$/, 'a service type like _googlecast._tcp.local');

/** What happens on a phone that a behaviour can answer (`on:`), counted in TrafficState.events. */
export const PHONE_EVENTS = ['contactAdded', 'smsReceived', 'smsSent', 'setupCompleted'] as const;
export type PhoneEvent = (typeof PHONE_EVENTS)[number];

/** Phone-state conditions; a missing key matches any value. */
const when = z
  .object({
    screenOn: z.boolean().optional(),
    foreground: z.string().optional(),
    backupEnabled: z.boolean().optional(),
    backupRunning: z.boolean().optional(),
    analyticsConsent: z.boolean().optional(),
    adsConsent: z.boolean().optional(),
    accountSignedIn: z.boolean().optional(),
    simInserted: z.boolean().optional(),
    cloudMessaging: z.boolean().optional(),
    locationOn: z.boolean().optional(),
  })
  .strict();

/** The conditions a misbehaviour may tell the phone to ignore. */
export const CONSENT_KEYS = [
  'analyticsConsent',
  'adsConsent',
  'backupEnabled',
  'cloudMessaging',
  'locationOn',
] as const;

const behaviour = z
  .object({
    /** Unique id of the behaviour within the file. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a kebab-case id'),
    /** The Android package that makes the connections. */
    package: z.string().regex(/^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/, 'a package name like com.miui.analytics'),
    /** Phone state it happens in (always online). */
    when: when.default({}),
    /**
     * Hosts contacted, each once per occurrence; for mdns, the DNS-SD service types asked for on the
     * local network (e.g. _googlecast._tcp.local).
     */
    hosts: z.array(z.union([hostName, serviceType])).min(1),
    /**
     * tls: DNS then TLS with SNI on TCP 443 and a small request; http: plain HTTP on 80; quic: a QUIC
     * Initial on UDP 443; mdns: a multicast DNS question (PTR) to 224.0.0.251:5353 after joining the
     * group (the kernel sends the IGMP report), as Android's service discovery does on the LAN.
     */
    protocol: z.enum(['tls', 'http', 'quic', 'mdns', 'dns']),
    /** Request path (tls, http). */
    path: z.string().startsWith('/').default('/'),
    /**
     * Query string parameters (http); values may use {imei}, {androidId}, {serial}, {advertisingId},
     * {wifiMac}, and the SIM's {imsi}, {iccid}, {phoneNumber} (empty while no SIM is in), each through
     * functions applied right to left: {sha256:imei}, {md5:nosep:wifiMac}.
     */
    query: z.record(z.string(), z.string()).optional(),
    /** Extra request headers (tls, http), values templated as in query. */
    headers: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'a header name'), z.string()).optional(),
    /**
     * A request body (tls, http) instead of `up` filler bytes: JSON (strings templated as in query;
     * the string "{apps}" becomes the installed-package list, "{contacts}" the contacts' numbers) or a form, gzip-compressed when asked.
     */
    body: z
      .object({
        json: z.unknown().optional(),
        form: z.record(z.string(), z.string()).optional(),
        gzip: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** tls: speak HTTP/2 (ALPN h2) instead of HTTP/1.1; headers go lower-case, as HTTP/2 sends them. */
    http2: z.boolean().default(false),
    /**
     * tls: the app pins the lab's server certificate: it refuses any other, a CA the phone trusts
     * included (mitmproxy's), as pinned system services do.
     */
    pinned: z.boolean().default(false),
    /** Sends the request in two TCP segments, split inside this template's value (e.g. "{imei}"). */
    splitAt: z.string().optional(),
    /** dns: the first label(s) put before each host in the query name, templated as in query. */
    label: z.string().optional(),
    /** Interval between occurrences, in phone time (divided by the speed factor). */
    every: duration.optional(),
    /**
     * Instead of `every`: one occurrence each time this happens on the phone while `when` holds (a
     * contact saved, an SMS received or sent, setup finished after a reset), soon after it.
     */
    on: z.enum(PHONE_EVENTS).optional(),
    /** Random spread of each interval, as a fraction of it (0.2 = ±20%). */
    jitter: z.number().min(0).max(1).default(0.1),
    /** Bytes the request carries upward (body). */
    up: z.number().int().min(0).max(1_000_000).default(300),
    /** Bytes asked back from the server. */
    down: z.number().int().min(0).max(1_000_000).default(1000),
    /** Free-form tags, e.g. "analytics". */
    tags: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.every === undefined) === (b.on === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [b.every === undefined ? 'every' : 'on'],
        message: 'a behaviour has either every (a period) or on (an event), not both or neither',
      });
    for (const key of ['http2', 'pinned'] as const)
      if (b[key] && b.protocol !== 'tls')
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is for protocol tls` });
    b.hosts.forEach((h, i) => {
      if ((b.protocol === 'mdns') !== h.startsWith('_'))
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i],
          message:
            b.protocol === 'mdns'
              ? 'mdns asks for a service type like _googlecast._tcp.local'
              : 'a lower-case host name',
        });
    });
  });

const misbehaviour = z
  .object({
    /** What the misbehaviour does, for `sim up` and reports. */
    description: z.string().min(1),
    /** Behaviours carrying one of these tags ignore the listed consent conditions. */
    ignoreConsent: z
      .object({ tags: z.array(z.string()).min(1), conditions: z.array(z.enum(CONSENT_KEYS)).min(1) })
      .strict()
      .optional(),
    /** Extra behaviours active only with this misbehaviour. */
    behaviours: z.array(behaviour).default([]),
  })
  .strict();

export const trafficProfileSchema = z
  .object({
    /** Format of this file. */
    formatVersion: z.literal(1),
    /** Device profile this traffic belongs to. */
    profile: z.string().min(1),
    /** Normal behaviours. */
    behaviours: z.array(behaviour).min(1),
    /** Named misbehaviours. */
    misbehaviour: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), misbehaviour).default({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    const all = [
      ...p.behaviours.map((b, i) => ({ b, path: ['behaviours', i, 'id'] })),
      ...Object.entries(p.misbehaviour).flatMap(([k, m]) =>
        m.behaviours.map((b, i) => ({ b, path: ['misbehaviour', k, 'behaviours', i, 'id'] })),
      ),
    ];
    for (const { b, path } of all) {
      if (seen.has(b.id)) ctx.addIssue({ code: 'custom', path, message: `duplicate behaviour id "${b.id}"` });
      seen.add(b.id);
    }
  });

/** A behaviour as the agent runs it. */
export type Behaviour = z.infer<typeof behaviour>;
/** A whole traffic profile. */
export type TrafficProfile = z.infer<typeof trafficProfileSchema>;
/** Phone-state conditions of a behaviour. */
export type BehaviourWhen = z.infer<typeof when>;

/** Parses a traffic profile's text; `file` names it in errors. */
export function parseTrafficProfile(text: string, file: string): TrafficProfile {
  const source = new YamlSource(text, file);
  const result = trafficProfileSchema.safeParse(source.data());
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  return source.fail(issue.path, issue.message);
}

/** Reads and checks a traffic profile file. */
export async function loadTrafficProfile(file: string): Promise<TrafficProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SimConfigError(file, 0, 0, '', `cannot read: ${(err as Error).message}`, { cause: err });
  }
  return parseTrafficProfile(text, file);
}
