/**
 * What a launch ran on, for Allure's Environment and Executor widgets: environment.properties (tool
 * versions, host) and executor.json (the CI build). Pure: the gatherer that reads versions lives in
 * allure-results.ts.
 */

/** Versions and host of a launch. Undefined entries are left out of environment.properties. */
export interface LaunchEnvironment {
  /** phonehome's version from package.json. */
  phonehome: string;
  /** `adb version`, first two lines joined, or why it is unknown. */
  adb: string;
  /** Appium server version, when the run used Appium. */
  appium?: string;
  /** appium-uiautomator2-driver version, when the run used it. */
  uiautomator2Driver?: string;
  /** Host name of the machine the phones hang off. */
  host: string;
  /** process.version. */
  node: string;
}

/** executor.json: the CI build a launch belongs to (Allure's ExecutorInfo). */
export interface ExecutorInfo {
  /** "GitHub Actions". */
  name: string;
  /** "github": Allure shows GitHub's icon. */
  type: string;
  /** The repository's Actions page. */
  url?: string;
  /** Run number: orders the builds in trends. */
  buildOrder?: number;
  /** "WORKFLOW #RUN_NUMBER". */
  buildName?: string;
  /** The run's page. */
  buildUrl?: string;
  /** Where the report will be published, when known. */
  reportUrl?: string;
  /** The report's title. */
  reportName?: string;
}

/** The environment as ordered key/value pairs, keys as Allure shows them. */
export function environmentEntries(env: LaunchEnvironment): [string, string][] {
  const entries: [string, string | undefined][] = [
    ['phonehome', env.phonehome],
    ['adb', env.adb],
    ['Appium', env.appium],
    ['UiAutomator2 driver', env.uiautomator2Driver],
    ['host', env.host],
    ['Node.js', env.node],
  ];
  return entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
}

function escapeProperty(text: string, isKey: boolean): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (isKey && (ch === '=' || ch === ':' || ch === ' ' || ch === '#' || ch === '!')) out += `\\${ch}`;
    else if (!isKey && out === '' && ch === ' ') out += '\\ ';
    else if (code < 0x20 || code > 0x7e) {
      // Java's properties format is Latin-1: everything else as UTF-16 \uXXXX escapes.
      for (const unit of ch.split('').map((c) => c.charCodeAt(0))) {
        out += `\\u${unit.toString(16).padStart(4, '0')}`;
      }
    } else out += ch;
  }
  return out;
}

/** Java properties text of key/value pairs: escaped keys and values, one per line. */
export function formatProperties(entries: readonly (readonly [string, string])[]): string {
  return entries.map(([k, v]) => `${escapeProperty(k, true)}=${escapeProperty(v, false)}\n`).join('');
}

/** environment.properties text (Java properties: escaped keys and values, one per line). */
export function formatEnvironmentProperties(env: LaunchEnvironment): string {
  return formatProperties(environmentEntries(env));
}

const UNESCAPED: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

/**
 * The key/value pairs of Java properties text (java.util.Properties.load): comments, blank lines,
 * "=", ":" or white space between key and value, backslash escapes and \uXXXX, lines continued by a
 * trailing backslash. Read as Latin-1, as Java does.
 */
export function parseProperties(text: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    // A line ending in an odd number of backslashes goes on with the next, its indent dropped.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    let key = '';
    let j = 0;
    const escaped = (): string => {
      const c = line[j + 1] ?? '';
      j += 2;
      if (c === 'u') {
        const hex = line.slice(j, j + 4);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          j += 4;
          return String.fromCharCode(Number.parseInt(hex, 16));
        }
        return 'u';
      }
      return UNESCAPED[c] ?? c;
    };
    while (j < line.length && !'=: \t\f'.includes(line[j]!)) {
      if (line[j] === '\\') key += escaped();
      else key += line[j++];
    }
    while (j < line.length && ' \t\f'.includes(line[j]!)) j++;
    if (line[j] === '=' || line[j] === ':') j++;
    while (j < line.length && ' \t\f'.includes(line[j]!)) j++;
    let value = '';
    while (j < line.length) {
      if (line[j] === '\\') value += escaped();
      else value += line[j++];
    }
    out.push([key, value]);
  }
  return out;
}

/**
 * executor.json from GitHub Actions' variables, or undefined outside GitHub Actions.
 * `reportUrl` comes from the caller (or PHONEHOME_REPORT_URL) because Actions cannot know it.
 */
export function executorFromEnv(
  env: Record<string, string | undefined>,
  reportUrl?: string,
): ExecutorInfo | undefined {
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repo = env.GITHUB_REPOSITORY;
  const runId = env.GITHUB_RUN_ID;
  if (env.GITHUB_ACTIONS !== 'true' && !runId) return undefined;
  const runNumber = Number(env.GITHUB_RUN_NUMBER);
  const attempt = Number(env.GITHUB_RUN_ATTEMPT);
  const info: ExecutorInfo = { name: 'GitHub Actions', type: 'github', reportName: 'phonehome' };
  if (repo) info.url = `${server}/${repo}/actions`;
  if (Number.isInteger(runNumber) && runNumber > 0) info.buildOrder = runNumber;
  const workflow = env.GITHUB_WORKFLOW ?? 'workflow';
  info.buildName = `${workflow} #${env.GITHUB_RUN_NUMBER ?? runId ?? '?'}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
  if (repo && runId) {
    info.buildUrl = `${server}/${repo}/actions/runs/${runId}${attempt > 1 ? `/attempts/${attempt}` : ''}`;
  }
  const url = reportUrl ?? env.PHONEHOME_REPORT_URL;
  if (url) info.reportUrl = url;
  return info;
}
