/**
 * `phonehome run` as a lab engineer meets it: the compiled CLI, real simulated phones (speed 240;
 * 60 where two phones must be idle at once), real tcpdump, mocha and allure-mocha. Exit codes, Allure results, skip reasons, usage errors,
 * --grep, the live display on a terminal, and Ctrl-C putting everything away.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gate } from '../testing/gate.js';

const exec = promisify(execFile);
const MAIN = resolve('dist/harness/cli/main.js');
const ready = process.getuid?.() === 0 && existsSync(MAIN);
// Ports of this file's own adb servers, apart from other tests'.
const PORT = 5700 + (process.pid % 50) * 4;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI; `onStderr` sees stderr as it comes, with the child to signal. */
function phonehome(
  args: string[],
  opts: { cwd?: string; onStderr?: (all: string, pid: number) => void; pty?: boolean; node?: string[] } = {},
): Promise<Ran> {
  const argv = [...(opts.node ?? []), MAIN, ...args];
  // `script` gives the CLI a terminal on stdout and stderr, as a person at a console has.
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  // A wide terminal, so that the live lines are not clipped.
  const line = `stty cols 200 rows 50; ${[process.execPath, ...argv].map(quote).join(' ')}`;
  const [cmd, cmdArgs] = opts.pty ? ['script', ['-qefc', line, '/dev/null']] : [process.execPath, argv];
  return new Promise((done) => {
    const env = { ...process.env };
    delete env.CI;
    const p = spawn(cmd, cmdArgs as string[], {
      cwd: opts.cwd ?? process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.pty ? env : { ...env, CI: 'true' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, p.pid!);
    });
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** What a failed assertion shows: the ends of both outputs (the summary names violations). */
function why(r: Ran): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-1500)}\n--- stderr\n${r.stderr.slice(-1500)}`;
}

/** Allure result files of a results folder, parsed. */
async function allureResults(dir: string): Promise<Record<string, unknown>[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('-result.json'));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))));
}

/** The namespaces and state dir the CLI says its simulated lab has. */
function labOf(stderr: string): { namespaces: string[]; stateDir: string } | undefined {
  const m = /simulated lab \S+ up \([^;]*; namespaces ([^;]+); state dir ([^)]+)\)/.exec(stderr);
  return m ? { namespaces: m[1]!.trim().split(/\s+/), stateDir: m[2]!.trim() } : undefined;
}

async function namespaces(): Promise<string[]> {
  const { stdout } = await exec('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** Whatever a failed test left up, put away by its state dir (never by name pattern). */
async function putAway(r: Ran | undefined): Promise<void> {
  const lab = r && labOf(r.stderr);
  if (lab && existsSync(lab.stateDir)) {
    await exec(process.execPath, [MAIN, 'sim', 'down', '--state-dir', lab.stateDir]).catch(() => {});
    await rm(lab.stateDir, { recursive: true, force: true });
  }
}

const group = gate(ready ? false : 'needs root and a build (dist/)');

group.describe('phonehome run (CLI, simulated phones)', () => {
  let work: string;
  group.before(async () => {
    work = await mkdtemp(join(tmpdir(), 'phonehome-run-cli-'));
  });
  group.after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  group.it('usage errors exit 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['run', '--sim', 'pixel-7', '--scenario', 'idel'],
        /^phonehome: no scenario "idel" \(did you mean idle\?\); known: .*\bidle\b/,
      ],
      [['run', '--scenario', 'idle'], /^phonehome: which phones\? give --device SERIAL/],
      [['run', '--sim', 'pixel-7', '--grep', '(unclosed'], /^phonehome: --grep: not a regular expression/],
    ];
    for (const [args, line] of cases) {
      const r = await phonehome(args, { cwd: work });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, line);
    }
    // A wrong inventory stops the run before any phone comes up, naming its line and field.
    await writeFile(join(work, 'inventory.yaml'), 'R58N12ABCDE:\n  imei: "868523061234566"\n');
    const inv = await phonehome(['run', '--sim', 'pixel-7', '--inventory', 'inventory.yaml'], { cwd: work });
    assert.equal(inv.code, 2, inv.stderr);
    assert.equal(
      inv.stderr.trim(),
      'phonehome: inventory.yaml:2:9: R58N12ABCDE.imei: not an IMEI: expected 15 digits ending in their check digit',
    );
    await writeFile(join(work, 'bad.json'), '{\n  "capture": { "backend": "wireshark" }\n}\n');
    const bad = await phonehome(['run', '--config', 'bad.json', '--sim', 'pixel-7'], { cwd: work });
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr.trim(),
      'phonehome: bad.json:2:27: capture.backend: "wireshark" is not one of "tcpdump", "cap", "pcapdroid"',
    );
    // The default config in the working folder is read without --config.
    const cfgDir = await mkdtemp(join(work, 'cfg-'));
    await writeFile(join(cfgDir, 'phonehome.config.mjs'), 'export default { parallelism: 0 };\n');
    const mjs = await phonehome(['run', '--sim', 'pixel-7'], { cwd: cfgDir });
    assert.equal(mjs.code, 2);
    assert.equal(mjs.stderr.trim(), 'phonehome: phonehome.config.mjs: parallelism: at least 1');
    // A .ts config: Node alone cannot import it and says what to do; with tsx's loader it is read.
    const tsDir = await mkdtemp(join(work, 'ts-'));
    await writeFile(
      join(tsDir, 'phonehome.config.ts'),
      'const n: number = 0;\nexport default { parallelism: n };\n',
    );
    const ts = await phonehome(['run', '--sim', 'pixel-7'], { cwd: tsDir });
    assert.equal(ts.code, 2);
    assert.match(
      ts.stderr.trim(),
      /^phonehome: phonehome\.config\.ts: Node cannot import a \.ts config by itself/,
    );
    const tsx = await phonehome(['run', '--sim', 'pixel-7'], {
      cwd: tsDir,
      node: ['--import', import.meta.resolve('tsx')],
    });
    assert.equal(tsx.code, 2, why(tsx));
    assert.equal(tsx.stderr.trim(), 'phonehome: phonehome.config.ts: parallelism: at least 1');
  });

  group.it(
    'Appium that cannot start is a lab problem: one line with advice, exit 2, the simulated phone put away',
    async () => {
      // Something else listens on the port the config gives Appium.
      const blocker = createServer();
      await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
      const port = (blocker.address() as AddressInfo).port;
      const dir = await mkdtemp(join(work, 'appium-'));
      await writeFile(join(dir, 'phonehome.json'), `{ "appium": { "local": { "port": ${port} } } }\n`);
      let r: Ran | undefined;
      try {
        r = await phonehome([
          'run',
          '--config',
          join(dir, 'phonehome.json'),
          '--sim',
          'pixel-7',
          '--scenario',
          'idle',
          '--adb-port',
          String(PORT),
          '--out',
          join(dir, 'out'),
        ]);
        assert.equal(r.code, 2, why(r));
        const line = r.stderr.trimEnd().split('\n').at(-1)!;
        assert.equal(
          line,
          `phonehome: cannot start Appium on 127.0.0.1:${port}: another program listens on that port; ` +
            'stop it, or leave the Appium port unset so that phonehome picks a free one',
        );
        assert.doesNotMatch(r.stderr, /internal error/);
        const lab = labOf(r.stderr);
        assert.ok(lab, r.stderr);
        assert.deepEqual(
          (await namespaces()).filter((n) => lab.namespaces.includes(n)),
          [],
          'the simulated phone was taken down',
        );
      } finally {
        blocker.close();
        await putAway(r);
      }
    },
  );

  group.it(
    'a Pixel through idle passes, theme-store is skipped with its reason, --grep leaves the rest out',
    async () => {
      const out = join(work, 'pixel');
      let r: Ran | undefined;
      try {
        r = await phonehome(
          [
            'run',
            '--no-ui',
            '--sim',
            'pixel-7',
            '--scenario',
            'idle,theme-store,analytics-opt-out',
            '--grep',
            '(idle|theme-store)$',
            '--speed',
            '240',
            '--adb-port',
            String(PORT),
            '--out',
            out,
          ],
          { cwd: process.cwd() },
        );
        assert.equal(r.code, 0, why(r));
        assert.match(r.stdout, /^1 passed, 0 failed, 0 broken, 1 skipped$/m);
        const reason =
          "the pixel-stock profile does not declare themes-app (the maker's Themes app) among its capabilities";
        const reasonRe = reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        assert.match(
          r.stdout,
          new RegExp(`^skipped: Google Pixel 7 \\(.+\\) › theme-store: ${reasonRe}$`, 'm'),
        );
        assert.match(r.stderr, new RegExp(`theme-store: skipped: ${reasonRe}`));
        const results = await allureResults(join(out, 'allure-results'));
        const byName = new Map(results.map((x) => [(x.name as string).split(' ')[0]!, x]));
        assert.deepEqual(
          [...byName.keys()].sort(),
          ['idle', 'theme-store'],
          'analytics-opt-out left out by --grep',
        );
        assert.equal(byName.get('idle')!.status, 'passed');
        assert.equal(byName.get('theme-store')!.status, 'skipped');
        assert.deepEqual(byName.get('theme-store')!.statusDetails, { message: reason });
        // The skipped scenario sits beside the phone's other runs, under the same suite label.
        const label = (x: Record<string, unknown>, n: string) =>
          (x.labels as { name: string; value: string }[]).find((l) => l.name === n)?.value;
        assert.equal(label(byName.get('theme-store')!, 'suite'), label(byName.get('idle')!, 'suite'));
        assert.equal(label(byName.get('theme-store')!, 'feature'), 'theme-store');
        assert.match(byName.get('theme-store')!.name as string, /^theme-store on Pixel 7 \(/);
        const runs = readdirSync(join(out, 'runs'));
        const phones = readdirSync(join(out, 'runs', runs[0]!));
        assert.deepEqual(readdirSync(join(out, 'runs', runs[0]!, phones[0]!)), ['idle']);
      } finally {
        await putAway(r);
      }
    },
  );

  group.it(
    'a Xiaomi contacting an unlisted host fails (exit 1), live lines on a terminal count it',
    async () => {
      const out = join(work, 'xiaomi');
      let r: Ran | undefined;
      try {
        r = await phonehome(
          [
            'run',
            '--no-ui',
            '--sim',
            'xiaomi-redmi-note-13+unknown-host',
            '--scenario',
            'idle',
            '--speed',
            '240',
            '--adb-port',
            String(PORT + 1),
            '--out',
            out,
          ],
          { pty: true },
        );
        // Through `script`, stdout and stderr arrive together on stdout.
        const screen = r.stdout;
        assert.equal(r.code, 1, why(r));
        assert.match(screen, /^0 passed, 1 failed, 0 broken, 0 skipped\r?$/m);
        assert.match(screen, /beacon\.unlisted-collector\.net during /);
        // Live lines: redrawn in place (cursor up, erase), with the step and the counts so far.
        assert.match(screen, /\x1b\[1F\x1b\[J/);
        assert.match(
          screen,
          /Xiaomi [^\n]*· idle · step 4\/4 idle · \d:\d\d elapsed, ~\d:\d\d left · \d+ connections · [1-9]\d* violations?/,
        );
        assert.match(screen, /✘ Xiaomi [^\n]* › idle: failed: /);
        const results = await allureResults(join(out, 'allure-results'));
        assert.equal(results.length, 1);
        assert.equal(results[0]!.status, 'failed');
        const runs = readdirSync(join(out, 'runs'));
        const phone = readdirSync(join(out, 'runs', runs[0]!))[0]!;
        const result = JSON.parse(
          await readFile(join(out, 'runs', runs[0]!, phone, 'idle', 'result.json'), 'utf8'),
        );
        assert.equal(result.outcome, 'failed');
        assert.ok(
          result.violations.some((v: { subject: string }) => v.subject === 'beacon.unlisted-collector.net'),
          JSON.stringify(result.violations),
        );
      } finally {
        await putAway(r);
      }
    },
  );

  group.it(
    'a phonehome.config.json in the working folder: out, canary domain and a local Appium',
    async () => {
      const lab = await mkdtemp(join(work, 'lab-'));
      await writeFile(
        join(lab, 'phonehome.config.json'),
        JSON.stringify({
          devicesDir: resolve('devices'),
          out: 'nightly',
          canaryDomain: 'canary.lab.test',
          appium: { local: {} },
          scenarios: ['idle'],
        }),
      );
      let r: Ran | undefined;
      try {
        r = await phonehome(['run', '--sim', 'pixel-7', '--adb-port', String(PORT + 3)], { cwd: lab });
        assert.equal(r.code, 0, why(r));
        const runs = join(lab, 'nightly', 'runs');
        const id = readdirSync(runs)[0]!;
        const phone = readdirSync(join(runs, id))[0]!;
        assert.deepEqual(readdirSync(join(runs, id, phone)), ['idle'], 'the config chose the scenarios');
        const result = JSON.parse(await readFile(join(runs, id, phone, 'idle', 'result.json'), 'utf8'));
        assert.equal(result.outcome, 'passed');
        assert.match(result.canaries.start, /^start-.+\.canary\.lab\.test$/);
        assert.equal(result.canaries.startSeen, true);
        // With a UI, a profile action without UI steps says so; without one it would say "no UI automation".
        const home = result.phases.find(
          (st: { phase: string; name: string }) => st.phase === 'step' && st.name === 'go home',
        );
        assert.match(home.detail, /^over adb \(the action has no UI steps\)/);
        assert.match(await readFile(join(lab, 'nightly', 'appium.log'), 'utf8'), /POST \/session/);
      } finally {
        await putAway(r);
      }
    },
  );

  group.it('a second Ctrl-C quits at once and says how to put the phones away', async () => {
    let r: Ran | undefined;
    let first = 0;
    let second = 0;
    try {
      r = await phonehome(
        [
          'run',
          '--no-ui',
          '--sim',
          'pixel-7',
          '--scenario',
          'idle',
          '--adb-port',
          String(PORT + 2),
          '--out',
          join(work, 'twice'),
        ],
        {
          onStderr: (all, pid) => {
            if (first === 0 && /idle: step idle/.test(all)) {
              first = Date.now();
              process.kill(pid, 'SIGINT');
            }
            // The second when the first has been taken (two signals sent at once may arrive as one).
            if (second === 0 && /phonehome: stopping/.test(all)) {
              second = Date.now();
              process.kill(pid, 'SIGINT');
            }
          },
        },
      );
      assert.ok(second > 0, why(r));
      assert.equal(r.code, 130);
      assert.ok(Date.now() - second < 3_000, 'quit at once');
      assert.match(
        r.stderr,
        /phonehome: quitting at once; simulated phones are still up: phonehome sim down --state-dir \S+/,
      );
    } finally {
      await putAway(r);
    }
    const lab = labOf(r.stderr)!;
    const left = await namespaces();
    assert.deepEqual(
      lab.namespaces.filter((n) => left.includes(n)),
      [],
      'sim down by its state dir removed the lab',
    );
  });

  group.it(
    'Ctrl-C during a two-phone run: exit 130, both runs broken "interrupted by SIGINT" with their captures, the lab is gone',
    async () => {
      const out = join(work, 'sigint');
      let r: Ran | undefined;
      let sent = false;
      try {
        r = await phonehome(
          [
            'run',
            '--no-ui',
            '--sim',
            'pixel-7,xiaomi-redmi-note-13',
            '--scenario',
            'idle',
            '--speed',
            '60',
            '--adb-port',
            String(PORT + 2),
            '--out',
            out,
          ],
          {
            onStderr: (all, pid) => {
              // Once both phones are in their idle step: the interruption reaches both mid-capture.
              const idle = new Set([...all.matchAll(/^\[([^\]]+)\] idle: step idle$/gm)].map((m) => m[1]));
              if (!sent && idle.size === 2) {
                sent = true;
                process.kill(pid, 'SIGINT');
              }
            },
          },
        );
        assert.ok(sent, `never reached the idle step: ${why(r)}`);
        assert.equal(r.code, 130, why(r));
        assert.match(r.stderr, /phonehome: stopping: captures are flushed/);
        const runs = readdirSync(join(out, 'runs'));
        const phones = readdirSync(join(out, 'runs', runs[0]!));
        assert.equal(phones.length, 2, 'a run folder for each phone');
        for (const phone of phones) {
          const dir = join(out, 'runs', runs[0]!, phone, 'idle');
          const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'));
          assert.equal(result.outcome, 'broken');
          assert.equal(result.reason, 'interrupted by SIGINT');
          assert.deepEqual([result.broken.stage, result.broken.kind], ['step', 'interrupted']);
          assert.ok(result.capture.packets > 0, `${phone}: the capture was stopped and flushed`);
          assert.ok(existsSync(join(dir, 'capture.pcap')), `${phone}: capture.pcap kept`);
        }
        const results = await allureResults(join(out, 'allure-results'));
        assert.deepEqual(
          results.map((x) => x.status),
          ['broken', 'broken'],
        );
        const lab = labOf(r.stderr);
        assert.ok(lab, r.stderr);
        const left = await namespaces();
        assert.deepEqual(
          lab.namespaces.filter((n) => left.includes(n)),
          [],
        );
        assert.equal(existsSync(lab.stateDir), false);
      } finally {
        await putAway(r);
      }
    },
  );
});
