#!/usr/bin/env node
// Checks the import rules in DEPS.list: each file belongs to the section of the nearest folder that
// has one; it imports only files of its own section and the paths its section lists; no import circles between files or between folders.
// Relative imports only (packages are free), static and dynamic. Tests (*.test.ts, *.int.test.ts) may
// also import what their section lists after "tests:".
// Usage: node scripts/check-imports.mjs [--root DIR] [--edges]   (exit 0 clean, 1 violations, 2 bad rules)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const args = process.argv.slice(2);
const root = resolve(args.includes('--root') ? args[args.indexOf('--root') + 1] : '.');
const showEdges = args.includes('--edges');
const RULES = join(root, 'DEPS.list');

/** DEPS.list: "[folder]" starts a section; each line after it is a path the folder's files may import; "tests: path" only for its tests. */
function readRules() {
  if (!existsSync(RULES)) fail(`${RULES}: missing`);
  const sections = new Map();
  let current;
  readFileSync(RULES, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const head = /^\[([^\]]+)\]$/.exec(line);
      if (head) {
        const folder = head[1].replace(/\/$/, '');
        if (!existsSync(join(root, folder))) fail(`DEPS.list:${i + 1}: [${folder}]: no such folder`);
        if (sections.has(folder)) fail(`DEPS.list:${i + 1}: [${folder}] is listed twice`);
        current = { folder, line: i + 1, allow: [], tests: [] };
        sections.set(folder, current);
        return;
      }
      if (!current) fail(`DEPS.list:${i + 1}: "${line}" is outside a [folder] section`);
      const test = /^tests:\s*(.+)$/.exec(line);
      const path = (test ? test[1] : line).replace(/\/$/, '');
      if (!existsSync(join(root, path))) fail(`DEPS.list:${i + 1}: ${path}: no such file or folder`);
      (test ? current.tests : current.allow).push(path);
    });
  return sections;
}

function fail(message) {
  process.stderr.write(`check-imports: ${message}\n`);
  process.exit(2);
}

const under = (path, prefix) => path === prefix || path.startsWith(`${prefix}/`);
const isTest = (f) => /\.(int\.)?test\.ts$/.test(f);

function files(sections) {
  const out = [];
  const walk = (d) => {
    for (const n of readdirSync(d)) {
      if (n === 'node_modules' || n.startsWith('.')) continue;
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  const tops = new Set([...sections.keys()].map((f) => f.split('/')[0]));
  for (const t of tops) if (existsSync(join(root, t))) walk(join(root, t));
  return out.sort();
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\b[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importsOf(file, known) {
  const src = readFileSync(join(root, file), 'utf8');
  const out = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const base = join(dirname(file), spec).split(sep).join('/').replace(/\.js$/, '');
    const target = [`${base}.ts`, `${base}/index.ts`].find((c) => known.has(c));
    if (!target) continue; // not a TypeScript file of the tree (JSON, a script): not ruled here
    const line = src.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    out.push({ target, line });
  }
  return out;
}

/** Strongly connected components with more than one node (Tarjan). */
function circles(nodes, edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.reverse());
    }
  };
  for (const v of nodes) if (!idx.has(v)) strong(v);
  return out;
}

const sections = readRules();
const all = files(sections);
const known = new Set(all);
const sectionOf = (file) => {
  let best;
  for (const folder of sections.keys())
    if (under(file, folder) && (!best || folder.length > best.length)) best = folder;
  return best && sections.get(best);
};

const problems = [];
const fileEdges = new Map();
const folderEdges = new Map();
for (const file of all) {
  const sec = sectionOf(file);
  if (!sec) {
    problems.push(`${file}: its folder has no [section] in DEPS.list`);
    continue;
  }
  for (const { target, line } of importsOf(file, known)) {
    const allowed =
      sectionOf(target) === sec ||
      sec.allow.some((a) => under(target, a)) ||
      (isTest(file) && (sec.tests.some((a) => under(target, a)) || under(target, 'testing')));
    if (!allowed) {
      problems.push(
        `${file}:${line}: may not import ${target} (DEPS.list [${sec.folder}] at line ${sec.line})`,
      );
    }
    if (showEdges) process.stdout.write(`${file} -> ${target}\n`);
    if (isTest(file) || isTest(target)) continue;
    if (!fileEdges.has(file)) fileEdges.set(file, new Set());
    fileEdges.get(file).add(target);
    const a = dirname(file);
    const b = dirname(target);
    if (a !== b && !under(a, b) && !under(b, a)) {
      if (!folderEdges.has(a)) folderEdges.set(a, new Set());
      folderEdges.get(a).add(b);
    }
  }
}
for (const c of circles(
  all.filter((f) => !isTest(f)),
  fileEdges,
))
  problems.push(`file circle: ${c.join(' -> ')}`);
for (const c of circles([...folderEdges.keys()], folderEdges))
  problems.push(`folder circle: ${c.join(' -> ')}`);
for (const p of problems) process.stdout.write(`${p}\n`);
process.stdout.write(
  `check-imports: ${all.length} files, ${sections.size} sections, ${problems.length} problems\n`,
);
process.exit(problems.length ? 1 : 0);
