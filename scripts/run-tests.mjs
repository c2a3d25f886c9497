#!/usr/bin/env node
// The project's test command: lint, the import rules, typecheck+build, unit tests, then integration tests (root and
// the simulator). Each stage counts; the last line is "N passed, N failed" for CI.
// Usage: node scripts/run-tests.mjs [--unit] [--integration] [--no-lint] [FILTER...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = new Set(args.filter((a) => a === '--unit' || a === '--integration'));
const noLint = args.includes('--no-lint');
const filters = args.filter((a) => !a.startsWith('--'));
const wantUnit = only.size === 0 || only.has('--unit');
const wantIntegration = only.size === 0 || only.has('--integration');

let passed = 0;
let failed = 0;
let skipped = 0;

function stage(name, cmd, cmdArgs) {
  process.stdout.write(`\n== ${name}: ${cmd} ${cmdArgs.join(' ')}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status === 0) passed += 1;
  else {
    failed += 1;
    process.stdout.write(`!! ${name} failed (exit ${r.status ?? r.signal})\n`);
  }
  return r.status === 0;
}

function findTests(dir, suffix) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findTests(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

function runNodeTests(name, files, concurrency, timeoutMs) {
  const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
  if (chosen.length === 0) {
    process.stdout.write(`\n== ${name}: no test files\n`);
    return;
  }
  process.stdout.write(`\n== ${name}: ${chosen.length} files\n`);
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${timeoutMs}`,
      '--test-reporter=spec',
      '--enable-source-maps',
      ...chosen,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 },
  );
  process.stdout.write(r.stdout ?? '');
  const num = (label) => {
    const m = new RegExp(`^[^\\w]*${label} (\\d+)\\s*$`, 'm').exec(r.stdout ?? '');
    return m ? Number(m[1]) : 0;
  };
  const p = num('pass');
  const f = num('fail') + num('cancelled');
  skipped += num('skipped') + num('todo');
  passed += p;
  failed += f;
  if (r.status !== 0 && f === 0) {
    failed += 1;
    process.stdout.write(
      `!! ${name}: test runner exited ${r.status ?? r.signal} with no failed test counted\n`,
    );
  }
}

if (!noLint) {
  stage('lint', 'npx', ['--no-install', 'biome', 'check', '.']);
  // What each folder may import (DEPS.list), and no import circles.
  stage('import rules', process.execPath, ['scripts/check-imports.mjs']);
  // GitHub workflow files checked against the workflow schema (action-validator from the npm registry).
  for (const wf of findTests('.github/workflows', '.yml')) {
    stage(`workflow ${wf}`, 'npx', ['--no-install', 'action-validator', wf]);
  }
}
const built = stage('typecheck+build', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']);
if (built) {
  if (wantUnit)
    runNodeTests(
      'unit tests',
      ['dist/harness', 'dist/sim', 'dist/scenarios', 'dist/bench', 'dist/testing', 'dist/fuzz'].flatMap((d) =>
        findTests(d, '.test.js'),
      ),
      2,
      120_000,
    );
  if (wantIntegration)
    runNodeTests('integration tests', findTests('dist/integration', '.int.test.js'), 1, 600_000);
}
// Under CI every test must run: a skip there means a missing tool or right, which a green run must not hide.
const ci =
  process.env.CI !== undefined &&
  process.env.CI !== '' &&
  process.env.CI !== 'false' &&
  process.env.CI !== '0';
if (ci && skipped > 0) {
  failed += 1;
  process.stdout.write(
    `!! ${skipped} tests skipped under CI (CI=${process.env.CI}): every test must run there\n`,
  );
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed ? 1 : 0);
