/**
 * The allowlist file format, as zod schemas: the single source of truth for what a file may hold. The
 * types below are inferred from them. docs/analyze-json.md and the README show examples.
 */
import { z } from 'zod';
import { ID_KINDS } from '../identifiers/read-identifiers.js';
import { parseCidr } from '../packets/ip-prefix.js';
import { parseIp } from '../packets/ip-text.js';
import { parseHostPattern } from './host-pattern.js';

/** Transport names a rule may restrict itself to (the Flow.proto values). */
const PROTO = /^(?:tcp|udp|icmp|icmp6|ip-\d{1,3})$/;

const hostField = z.string().superRefine((v, ctx) => {
  const r = parseHostPattern(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} ${r.problem}` });
});

const ipField = z.string().superRefine((v, ctx) => {
  if (!parseIp(v))
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not an IPv4 or IPv6 address` });
});

const cidrField = z.string().superRefine((v, ctx) => {
  const r = parseCidr(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} ${r.problem}` });
});

const portNumber = z
  .number({ error: 'expected a port number 1–65535' })
  .int({ error: 'expected a port number 1–65535' })
  .min(1, { error: 'expected a port number 1–65535' })
  .max(65535, { error: 'expected a port number 1–65535' });

const portField = z.union([portNumber, z.array(portNumber).min(1)], {
  error: 'expected a port number 1–65535 or a list of them',
});

const protoField = z.string().superRefine((v, ctx) => {
  if (!PROTO.test(v)) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} is not one of tcp, udp, icmp, icmp6, ip-N`,
    });
  }
});

const reasonField = z
  .string({ error: 'every rule needs a reason: a sentence saying why' })
  .trim()
  .min(1, { error: 'every rule needs a reason: a sentence saying why' });

/** A value or a non-empty list of values, read as a list. */
const oneOrMore = <T extends z.ZodType>(item: T, what: string) =>
  z.preprocess(
    (v) => (v === undefined || Array.isArray(v) ? v : [v]),
    z
      .array(item, { error: `expected ${what} or a list of them` })
      .min(1, { error: `expected ${what} or a list of them` }),
  );

const countryCode = z
  .string()
  .regex(
    /^[A-Z]{2}$/,
    'a two-letter ISO 3166-1 country code in capitals (CN is mainland China; HK, MO, TW are apart)',
  );

const asNumber = z.preprocess(
  (v) => (typeof v === 'string' && /^AS\d+$/i.test(v) ? Number(v.slice(2)) : v),
  z
    .number({ error: 'an AS number such as 15169 or "AS15169"' })
    .int({ error: 'an AS number such as 15169 or "AS15169"' })
    .min(1, { error: 'an AS number from 1' })
    .max(4294967295, { error: 'an AS number up to 4294967295' }),
);

/** The party labels (harness/geo/parties.ts). */
export const PARTY_NAMES = ['first', 'platform', 'support', 'third', 'local'] as const;

/** Where the responder is (harness/geo): alone or with host, ip or cidr; every one given must hold. */
const placeFields = {
  /** The responder's country, or any of a list (ISO 3166-1 alpha-2). */
  country: oneOrMore(countryCode, 'a country code').optional(),
  /** The AS announcing the responder's address, or any of a list. */
  asn: oneOrMore(asNumber, 'an AS number').optional(),
  /** Words the responder's organisation (the AS organisation, or an override's) contains, any case. */
  org: z.string().trim().min(1, 'some words of the organisation name').optional(),
  /** The responder's party label, or any of a list. */
  party: oneOrMore(z.enum(PARTY_NAMES, { error: `one of ${PARTY_NAMES.join(', ')}` }), 'a party').optional(),
};

/** The fields that say what a rule matches: at most one of host, ip, cidr, and any of the place fields; optionally port and proto. */
const matcherFields = {
  ...placeFields,
  /** Exact host name, or "*.suffix" for every subdomain of suffix (not the bare suffix). */
  host: hostField.optional(),
  /** One IPv4 or IPv6 address (the responder's). */
  ip: ipField.optional(),
  /** An IPv4 or IPv6 prefix, network address with no host bits set. */
  cidr: cidrField.optional(),
  /** Responder port, or a list of them; any port when absent. */
  port: portField.optional(),
  /** Transport; any when absent. */
  proto: protoField.optional(),
};

const TARGET_KEYS = ['host', 'ip', 'cidr'] as const;
const PLACE_KEYS = ['country', 'asn', 'org', 'party'] as const;

function exactlyOneTarget(
  rule: Partial<Record<(typeof TARGET_KEYS)[number] | (typeof PLACE_KEYS)[number], unknown>>,
  ctx: z.RefinementCtx,
): void {
  const present = TARGET_KEYS.filter((k) => rule[k] !== undefined);
  const place = PLACE_KEYS.some((k) => rule[k] !== undefined);
  if (present.length === 0 && !place) {
    ctx.addIssue({
      code: 'custom',
      message: 'a rule needs one of host, ip or cidr, or where the responder is (country, asn, org, party)',
    });
  } else if (present.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [present[1]!],
      message: `a rule takes exactly one of host, ip or cidr, not both ${present[0]} and ${present[1]}`,
    });
  }
}

/** What a rule matches, without a reason (budget `hosts` entries). A bare string is short for {host: …}. */
export const matcherSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { host: v } : v),
  z.strictObject(matcherFields).superRefine(exactlyOneTarget),
);

/** An `allow` entry. */
export const ruleSchema = z
  .strictObject({ ...matcherFields, reason: reasonField })
  .superRefine(exactlyOneTarget);

/**
 * An `expect` entry: an allow rule's shape plus how many connections at least (default 1), for
 * periodic check-ins a long run must show a number of.
 */
export const expectRuleSchema = z
  .strictObject({
    ...matcherFields,
    reason: reasonField,
    minConnections: z
      .number({ error: 'expected a whole number ≥ 1' })
      .int({ error: 'expected a whole number ≥ 1' })
      .min(1, { error: 'expected a whole number ≥ 1' })
      .optional(),
  })
  .superRefine(exactlyOneTarget);

/** How bad a forbidden contact is, for reports (Allure's severities). */
export const severitySchema = z.enum(['blocker', 'critical', 'normal', 'minor', 'trivial']);

/** A `forbid` entry: an allow rule's shape plus a severity (default normal). */
export const forbidRuleSchema = z
  .strictObject({ ...matcherFields, reason: reasonField, severity: severitySchema.optional() })
  .superRefine(exactlyOneTarget);

const count = z
  .number({ error: 'expected a whole number ≥ 0' })
  .int({ error: 'expected a whole number ≥ 0' })
  .min(0, { error: 'expected a whole number ≥ 0' });

/** A `budget` entry: limits over all flows any of `hosts` matches. */
export const budgetSchema = z
  .strictObject({
    /** The matchers whose flows count against this budget. */
    hosts: z.array(matcherSchema, { error: 'expected a list of hosts or matchers' }).min(1, {
      error: 'a budget needs at least one entry in hosts',
    }),
    /** Most bytes (both directions, IP payload) allowed over all matching flows. */
    maxBytes: count.optional(),
    /** Most connections (flows) allowed. */
    maxConnections: count.optional(),
    reason: reasonField,
  })
  .superRefine((b, ctx) => {
    if (b.maxBytes === undefined && b.maxConnections === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a budget needs maxBytes, maxConnections or both' });
    }
  });

/** An identifier kind (or `app-list`, the installed packages sent as a list). */
const idKindField = z.enum([...ID_KINDS, 'app-list'], {
  error: `expected an identifier kind: ${[...ID_KINDS, 'app-list'].join(', ')}`,
});

/** An `identifiers.allow` entry: this kind may go to this host (a host is required: allowed where?). */
export const identifierAllowSchema = z.strictObject({
  id: idKindField,
  host: hostField,
  reason: reasonField,
});

/** An `identifiers.forbid` entry: this kind must not be sent, anywhere or to this host. */
export const identifierForbidSchema = z.strictObject({
  id: idKindField,
  host: hostField.optional(),
  reason: reasonField,
  severity: severitySchema.optional(),
});

/** A YAML key given with no value (`allow:`) reads as null: treat it as absent. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === null ? undefined : v), z.array(item, { error: 'expected a list' }).optional());

/** One allowlist file. */
export const allowlistFileSchema = z.strictObject(
  {
    /** Free text shown in reports. */
    description: z.string().optional(),
    /** Files this one builds on, relative to it; their rules come first. A single path is allowed. */
    extends: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v === null ? undefined : v),
      z.array(z.string().min(1), { error: 'expected a path or a list of paths' }).optional(),
    ),
    /** What to do with flows that have no name and no IP rule matching: fail (default), warn or allow. */
    unattributed: z.enum(['fail', 'warn', 'allow']).optional(),
    /**
     * What to do with an unnamed connection (TCP, QUIC) that was already open when the capture began (its
     * name went by before the capture): warn (default), fail or allow. Applies only where the capture
     * is known to have lost nothing; elsewhere such a flow is unattributed.
     */
    openBeforeCapture: z.enum(['fail', 'warn', 'allow']).optional(),
    allow: list(ruleSchema),
    forbid: list(forbidRuleSchema),
    expect: list(expectRuleSchema),
    budget: list(budgetSchema),
    /** Which identifiers may go where (forbid wins over allow); leaks no rule mentions follow identifierLeaks. */
    identifiers: z
      .preprocess(
        (v) => (v === null ? undefined : v),
        z
          .strictObject(
            { allow: list(identifierAllowSchema), forbid: list(identifierForbidSchema) },
            { error: 'expected a mapping with allow and forbid' },
          )
          .optional(),
      )
      .optional(),
    /** What an identifier leak no identifiers rule mentions is: fail (default) or warn. */
    identifierLeaks: z.enum(['fail', 'warn']).optional(),
    /** What a change against the run's baseline (drift) does to the run: fail, warn (default) or off. */
    drift: z.enum(['fail', 'warn', 'off']).optional(),
  },
  { error: 'expected a mapping with keys such as allow, forbid, expect, budget, extends' },
);

export type MatcherSpec = z.infer<typeof matcherSchema>;
export type RuleSpec = z.infer<typeof ruleSchema>;
export type ForbidRuleSpec = z.infer<typeof forbidRuleSchema>;
export type BudgetSpec = z.infer<typeof budgetSchema>;
export type Severity = z.infer<typeof severitySchema>;
export type AllowlistFileSpec = z.infer<typeof allowlistFileSchema>;
export type IdentifierKindSpec = z.infer<typeof idKindField>;
/** What an allowlist says about flows nothing names (and about unnamed connections open before the capture). */
export type UnattributedPolicy = NonNullable<AllowlistFileSpec['unattributed']>;
