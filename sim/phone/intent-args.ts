/** The intent arguments of am start/broadcast/startservice, parsed, and Intent.toShortString(). */

/** An intent as `am` builds it from arguments. */
export interface IntentArgs {
  /** -a */
  action?: string;
  /** -c (repeatable) */
  categories: string[];
  /** -d */
  data?: string;
  /** -t */
  type?: string;
  /** -n, as typed. */
  component?: string;
  /** -p */
  package?: string;
  /** -f */
  flags?: string;
  /** Extras from -e/--es/--ez/--ei/--el/--ef/--eu/--esa …, as text. */
  extras: Map<string, string>;
  /** am options: -W -S -D -R -P --user … (by name, value or "true"). */
  options: Map<string, string>;
  /** A bare trailing argument (a URI or a package). */
  uri?: string;
}

const EXTRA_WITH_VALUE = new Set([
  '-e',
  '--es',
  '--ez',
  '--ei',
  '--el',
  '--ef',
  '--ed',
  '--eu',
  '--ecn',
  '--eia',
  '--eial',
  '--ela',
  '--elal',
  '--efa',
  '--efal',
  '--esa',
  '--esal',
]);
const OPTION_WITH_VALUE = new Set([
  '-R',
  '-P',
  '--user',
  '--display',
  '--windowingMode',
  '--activityType',
  '--start-profiler',
  '--sampling',
  '--attach-agent',
  '--task',
  '--receiver-permission',
]);
const OPTION_FLAG = new Set([
  '-W',
  '-S',
  '-D',
  '-N',
  '--streaming',
  '--track-allocation',
  '--task-overlay',
  '--lock-task',
  '--allow-background-activity-starts',
  '--async',
]);

/** Parses `am` intent arguments. */
export function parseIntentArgs(args: readonly string[]): IntentArgs {
  const it: IntentArgs = { categories: [], extras: new Map(), options: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => args[++i] ?? '';
    if (a === '-a') it.action = next();
    else if (a === '-c') it.categories.push(next());
    else if (a === '-d') it.data = next();
    else if (a === '-t') it.type = next();
    else if (a === '-n') it.component = next();
    else if (a === '-p') it.package = next();
    else if (a === '-f') it.flags = next();
    else if (a === '--esn') it.extras.set(next(), '');
    else if (EXTRA_WITH_VALUE.has(a)) {
      const k = next();
      it.extras.set(k, next());
    } else if (OPTION_WITH_VALUE.has(a)) it.options.set(a, next());
    else if (
      OPTION_FLAG.has(a) ||
      a.startsWith('--activity-') ||
      a.startsWith('--receiver-') ||
      a.startsWith('--include-') ||
      a.startsWith('--exclude-') ||
      a === '--grant-read-uri-permission' ||
      a === '--grant-write-uri-permission' ||
      a === '--debug-log-resolution'
    ) {
      it.options.set(a, 'true');
    } else if (!a.startsWith('-')) it.uri = a;
  }
  return it;
}

/** The intent as am prints it: "Intent { act=… cmp=… }". */
export function describeIntent(it: IntentArgs, component?: string): string {
  return `Intent { ${intentFields(it, component)} }`;
}

/** The intent as ActivityTaskManager logs it: "{act=… cmp=…}". */
export function loggedIntent(it: IntentArgs, component?: string): string {
  return `{${intentFields(it, component)}}`;
}

function intentFields(it: IntentArgs, component?: string): string {
  const parts: string[] = [];
  if (it.action) parts.push(`act=${it.action}`);
  if (it.categories.length) parts.push(`cat=[${it.categories.join(',')}]`);
  const data = it.data ?? (it.uri?.includes(':') ? it.uri : undefined);
  if (data) parts.push(`dat=${data.replace(/^(\w+:\/\/[^/]*).*$/, '$1/...')}`);
  if (it.type) parts.push(`typ=${it.type}`);
  if (it.flags)
    parts.push(`flg=${it.flags.startsWith('0x') ? it.flags : `0x${Number(it.flags).toString(16)}`}`);
  if (it.package) parts.push(`pkg=${it.package}`);
  const cmp = component ?? it.component;
  if (cmp) parts.push(`cmp=${cmp}`);
  if (it.extras.size) parts.push('(has extras)');
  return parts.join(' ');
}
