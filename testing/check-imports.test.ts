/**
 * The import-rule check (scripts/check-imports.mjs, run by `make test`) on small trees made here: it
 * passes a tree that keeps to its DEPS.list and fails one import that breaks it, a circle of files
 * and a circle of folders, naming the file and line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const SCRIPT = resolve('scripts/check-imports.mjs');
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'phonehome-imports-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

const RULES = `
[harness]
[harness/packets]
harness/errors.ts
[harness/flows]
harness/packets
[harness/report]
harness/flows
tests: harness/packets
`;

const CLEAN = {
  'DEPS.list': RULES,
  'harness/errors.ts': 'export class E extends Error {}\n',
  'harness/packets/packet.ts': "import { E } from '../errors.js';\nexport const p = E;\n",
  'harness/flows/flow.ts': "import { p } from '../packets/packet.js';\nexport const f = p;\n",
  'harness/report/report.ts': "import type { f } from '../flows/flow.js';\nexport const r = 1;\n",
  'harness/report/report.test.ts': "import { p } from '../packets/packet.js';\nvoid p;\n",
};

describe('import rules', () => {
  it('pass a tree that keeps to its DEPS.list', () => {
    const r = check(tree(CLEAN));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /check-imports: 5 files, 4 sections, 0 problems/);
  });

  it('fail an import its folder may not make, naming file, line and section', () => {
    const r = check(
      tree({
        ...CLEAN,
        'harness/flows/flow.ts':
          "import { p } from '../packets/packet.js';\nimport { r } from '../report/report.js';\nexport const f = p + r;\n",
      }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /^harness\/flows\/flow\.ts:2: may not import harness\/report\/report\.ts \(DEPS\.list \[harness\/flows\] at line 5\)$/m,
    );
    // The same import in a test is allowed only where its section says so.
    const t = check(
      tree({ ...CLEAN, 'harness/flows/flow.test.ts': "await import('../report/report.js');\n" }),
    );
    assert.match(t.out, /^harness\/flows\/flow\.test\.ts:1: may not import harness\/report\/report\.ts/m);
  });

  it('fail circles of files and of folders even where each import is allowed', () => {
    const rules = '[harness]\n[harness/a]\nharness/b\n[harness/b]\nharness/a\n';
    const r = check(
      tree({
        'DEPS.list': rules,
        'harness/a/one.ts': "import { two } from './two.js';\nexport const one = two;\n",
        'harness/a/two.ts': "import { one } from './one.js';\nexport const two = 2;\nvoid one;\n",
        'harness/a/three.ts': "import { b } from '../b/b.js';\nexport const three = b;\n",
        'harness/b/b.ts': "import { one } from '../a/one.js';\nexport const b = one;\n",
      }),
    );
    assert.equal(r.code, 1);
    assert.match(r.out, /^file circle: harness\/a\/one\.ts -> harness\/a\/two\.ts$/m);
    assert.match(r.out, /^folder circle: harness\/a -> harness\/b$/m);
  });

  it('refuse rules that name what does not exist, and files of no section', () => {
    const bad = check(tree({ ...CLEAN, 'DEPS.list': `${RULES}[harness/gone]\n` }));
    assert.equal(bad.code, 2);
    assert.match(bad.out, /DEPS\.list:10: \[harness\/gone\]: no such folder/);
    const stray = check(
      tree({ ...CLEAN, 'DEPS.list': RULES.replace('[harness]\n', ''), 'harness/x.ts': '' }),
    );
    assert.equal(stray.code, 1);
    assert.match(stray.out, /^harness\/x\.ts: its folder has no \[section\] in DEPS\.list$/m);
  });

  it("keep this repository's rules: the wrong import added to a tree laid out by them fails", () => {
    const rules = readFileSync('DEPS.list', 'utf8');
    const ok = check(tree({ 'DEPS.list': rules, ...stubs(rules) }));
    assert.equal(ok.code, 0, ok.out);
    const wrong = check(
      tree({ 'DEPS.list': rules, ...stubs(rules), 'harness/flows/stub.ts': "import '../report/stub.js';\n" }),
    );
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.out,
      /^harness\/flows\/stub\.ts:1: may not import harness\/report\/stub\.ts \(DEPS\.list \[harness\/flows\]/m,
    );
    const simToHarness = check(
      tree({
        'DEPS.list': rules,
        ...stubs(rules),
        'sim/stub.ts': "import '../harness/errors.ts';\nimport '../harness/device/facts.js';\n",
      }),
    );
    assert.match(
      simToHarness.out,
      /^sim\/stub\.ts:2: may not import harness\/device\/facts\.ts \(DEPS\.list \[sim\]/m,
    );
  });
});

/** An empty file for every folder and path the rules name, so that the rules hold for the tree. */
function stubs(rules: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of rules.split('\n')) {
    const text = line.replace(/#.*/, '').trim();
    if (!text) continue;
    const path = text.startsWith('[') ? text.slice(1, -1) : text.replace(/^tests:\s*/, '');
    out[path.endsWith('.ts') ? path : `${path}/stub.ts`] = '';
  }
  return out;
}
