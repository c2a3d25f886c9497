/**
 * `phonehome scenarios`: the built-in scenarios, what each needs, and for each device profile
 * whether it applies (its capabilities and actions) and its allowlist. A scenario that applies to a
 * profile and has no allowlist there, or one that cannot be read, is bad configuration: listed, and
 * the exit status is 2.
 */
import { UsageError } from '../errors.js';
import { bundledDevicesDir } from '../project-dir.js';
import { type Command, Option } from './commander.js';

interface ScenariosCliOptions {
  devicesDir?: string;
  format: 'table' | 'json';
}

/** A scenario on one profile. */
export interface ScenarioFit {
  profile: string;
  /** applies: has a readable allowlist; skipped: cannot apply (why says why); broken: applies, allowlist missing or bad. */
  status: 'applies' | 'skipped' | 'broken';
  why?: string;
  allowlist?: string;
}

export function register(program: Command): void {
  program
    .command('scenarios')
    .summary('the scenarios, what they need, and which device profiles they apply to')
    .description(
      'List the built-in scenarios: description, steps, what each needs (Appium, root, PCAPdroid …) and the ' +
        'capabilities it requires of a phone, and for each device profile whether it applies and which ' +
        'allowlist judges it. Exit status: 0, or 2 when a scenario that applies to a profile has no readable allowlist.',
    )
    .option('--devices-dir <dir>', "folder of device profiles (default: phonehome's own devices/)")
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: ScenariosCliOptions) => {
      process.exitCode = await scenariosAction(o);
    });
}

async function scenariosAction(o: ScenariosCliOptions): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { relative } = await import('node:path');
  const { SCENARIOS } = await import('../../scenarios/index.js');
  const { loadProfiles, allowlistFor } = await import('../device/profiles.js');
  const { profileSkipReason } = await import('../run/suite.js');
  const { readAllowlist } = await import('../verdict/read-allowlist.js');
  const { columns } = await import('../format/analyze-table.js');
  const profiles = await loadProfiles(o.devicesDir ?? bundledDevicesDir());
  if (profiles.length === 0)
    throw new UsageError(`no device profiles in ${o.devicesDir ?? bundledDevicesDir()}`);
  const shown = (f: string) => relative(process.cwd(), f) || f;
  const rows = SCENARIOS.map((s) => {
    const fits: ScenarioFit[] = profiles.map((p) => {
      const why = profileSkipReason(s, p);
      if (why) return { profile: p.name, status: 'skipped', why };
      const file = allowlistFor(p, s.allowlist ?? s.name);
      if (!existsSync(file))
        return {
          profile: p.name,
          status: 'broken',
          why: `no allowlist: ${shown(file)}`,
          allowlist: shown(file),
        };
      try {
        readAllowlist(file);
      } catch (err) {
        return { profile: p.name, status: 'broken', why: (err as Error).message, allowlist: shown(file) };
      }
      return { profile: p.name, status: 'applies', allowlist: shown(file) };
    });
    return {
      name: s.name,
      description: s.description,
      needs: s.needs,
      requires: s.requires ?? {},
      // What only the lab can do for it (the config's hooks:).
      hooks: [
        ...new Set([
          ...(s.start ? [s.start.hook] : []),
          ...s.steps.flatMap((st) => (st.kind === 'lab' ? [st.hook] : [])),
        ]),
      ],
      steps: s.steps.map((st) => st.name),
      ...(s.twin ? { twin: s.twin } : {}),
      ...(s.onlyWhenNamed ? { onlyWhenNamed: s.onlyWhenNamed } : {}),
      profiles: fits,
    };
  });
  const broken = rows.flatMap((r) => r.profiles.filter((f) => f.status === 'broken').map((f) => ({ r, f })));
  if (o.format === 'json') {
    process.stdout.write(`${JSON.stringify({ formatVersion: 1, scenarios: rows }, null, 2)}\n`);
  } else {
    const lines = columns([
      ['SCENARIO', 'STEPS', 'NEEDS', ...profiles.map((p) => p.name.toUpperCase())],
      ...rows.map((r) => [
        r.name,
        String(r.steps.length),
        [...r.needs, ...Object.keys(r.requires), ...r.hooks.map((h) => `hook ${h}`)].join(', ') || '-',
        ...r.profiles.map((f) =>
          f.status === 'applies' ? 'yes' : f.status === 'skipped' ? 'no (capability)' : 'BROKEN',
        ),
      ]),
    ]);
    const notes = [
      ...rows.flatMap((r) =>
        r.profiles.filter((f) => f.status !== 'applies').map((f) => `${r.name} on ${f.profile}: ${f.why}`),
      ),
      ...rows.flatMap((r) => (r.onlyWhenNamed ? [`${r.name} runs only when named: ${r.onlyWhenNamed}`] : [])),
      ...rows.flatMap((r) =>
        r.twin ? [`${r.name} has a consent-off twin: ${r.twin.scenario} (${r.twin.consent})`] : [],
      ),
    ];
    process.stdout.write(
      `${[...lines, '', ...rows.map((r) => `${r.name}: ${r.description}`), ...(notes.length ? ['', ...notes] : [])].join('\n')}\n`,
    );
  }
  for (const { r, f } of broken)
    process.stderr.write(`phonehome: scenario ${r.name} applies to ${f.profile} but: ${f.why}\n`);
  return broken.length > 0 ? 2 : 0;
}
