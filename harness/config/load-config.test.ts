import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { defineConfig } from './define-config.js';
import { findConfigFile, loadConfig, readConfigFile, validateConfig } from './load-config.js';

describe('phonehome.config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'phonehome-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a full lab config and keeps its values', () => {
    const c = validateConfig(
      defineConfig({
        capture: { backend: 'cap', interface: 'wlan-ap', snaplen: 256 },
        adb: { host: '10.0.0.2', port: 5038, bin: '/opt/adb' },
        appium: { url: 'http://appium.lab:4723' },
        devicesDir: 'lab/devices',
        parallelism: 3,
        canaryDomain: 'canary.lab.example',
        out: 'nightly',
        scenarios: ['idle'],
      }),
      'phonehome.config.js',
    );
    assert.equal(c.capture?.backend, 'cap');
    assert.equal(c.adb?.port, 5038);
    assert.deepEqual(c.appium, { url: 'http://appium.lab:4723' });
    assert.equal(c.parallelism, 3);
    assert.deepEqual(validateConfig({ appium: { local: {} } }, 'x.js').appium, { local: {} });
  });

  it('refuses an interception host pattern that is not a regular expression, naming the field', () => {
    assert.throws(
      () => validateConfig({ intercept: { mode: 'mitmproxy', ignoreHosts: ['ok', '(open'] } }, 'lab.json'),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^lab\.json: intercept\.ignoreHosts\[1\]: a regular expression such as/.test(e.message),
    );
    assert.deepEqual(validateConfig({ intercept: false }, 'lab.json').intercept, false);
  });

  it('names the file and the field of a wrong value', () => {
    const cases: [unknown, string][] = [
      [
        { capture: { backend: 'wireshark' } },
        'c.js: capture.backend: expected one of "tcpdump", "cap", "pcapdroid"',
      ],
      [{ adb: { port: 70000 } }, 'c.js: adb.port: a port from 1 to 65535'],
      [{ parallelism: 0 }, 'c.js: parallelism: at least 1'],
      [{ canaryDomain: 'Not A Name' }, 'c.js: canaryDomain: a DNS name'],
      [{ apium: {} }, 'c.js: apium: unknown key "apium"'],
      [{ appium: { url: 'ftp://x' } }, 'c.js: appium.url: an http(s) URL'],
      [{ appium: { remote: 'x' } }, 'c.js: appium: expected { url'],
      [{ scenarios: 'idle' }, 'c.js: scenarios: expected array'],
      [{ hooks: { 'sim.insret': ['x'] } }, 'c.js: hooks.sim.insret: unknown key "sim.insret"'],
      [{ hooks: { 'sim.insert': [] } }, 'c.js: hooks.sim.insert: a command: its program, then its arguments'],
      [{ hooks: { 'sim.insert': 'simswitch in' } }, 'c.js: hooks.sim.insert: expected array'],
      [[], 'c.js: the default export must be an object'],
    ];
    for (const [value, start] of cases) {
      assert.throws(
        () => validateConfig(value, 'c.js'),
        (e: unknown) => e instanceof ConfigError && e.file === 'c.js' && e.message.startsWith(start),
        `${JSON.stringify(value)} → ${start}`,
      );
    }
  });

  it('points at line and column in a JSON config', async () => {
    await writeFile(join(dir, 'bad.json'), '{\n  "adb": {\n    "port": "5037"\n  }\n}\n');
    await assert.rejects(readConfigFile('bad.json', dir), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, 'bad.json:3:13: adb.port: expected a number, got "5037"');
      return true;
    });
  });

  it('loads a JavaScript module’s default export', async () => {
    await writeFile(
      join(dir, 'lab.mjs'),
      'export default { parallelism: 2, capture: { interface: "br0" } };\n',
    );
    const c = await readConfigFile('lab.mjs', dir);
    assert.equal(c.parallelism, 2);
    assert.equal(c.capture?.interface, 'br0');
  });

  it('finds phonehome.config.{js,mjs,json} in the working folder, and none when absent', async () => {
    const empty = await mkdtemp(join(dir, 'empty-'));
    assert.deepEqual(await loadConfig(undefined, empty), { config: {} });
    await writeFile(join(empty, 'phonehome.config.json'), '{ "out": "nightly" }');
    const found = await loadConfig(undefined, empty);
    assert.equal(found.file, 'phonehome.config.json');
    assert.equal(found.config.out, 'nightly');
    assert.equal(findConfigFile('other.json', empty), 'other.json');
  });

  it('finds phonehome.config.ts last; imports it only under a TypeScript loader, else says what to do', async () => {
    const d = await mkdtemp(join(dir, 'ts-'));
    await writeFile(
      join(d, 'phonehome.config.ts'),
      'const n: number = 0;\nexport default { parallelism: n };\n',
    );
    assert.equal(findConfigFile(undefined, d), 'phonehome.config.ts');
    const underLoader = process.execArgv.some((a) => a.includes('tsx'));
    await assert.rejects(
      readConfigFile('phonehome.config.ts', d),
      underLoader
        ? /^ConfigError: phonehome\.config\.ts: parallelism: at least 1$/
        : /phonehome\.config\.ts: Node cannot import a \.ts config by itself: compile it to \.js \(tsc\)/,
    );
    await writeFile(join(d, 'phonehome.config.mjs'), 'export default {};\n');
    assert.equal(findConfigFile(undefined, d), 'phonehome.config.mjs', '.mjs before .ts');
    await assert.rejects(readConfigFile('missing.js', d), /missing\.js: no such file/);
  });

  it('reads a .json config as JSON: a trailing comma is refused at its line and column', async () => {
    await writeFile(join(dir, 'comma.json'), '{\n  "out": "reports",\n}\n');
    await assert.rejects(readConfigFile('comma.json', dir), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^comma\.json:3:1: not valid JSON: /);
      return true;
    });
  });

  it('says what the system said when a config cannot be read', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'folder.json'));
    await assert.rejects(
      readConfigFile('folder.json', dir),
      /folder\.json: cannot read: is a directory \(EISDIR\)/,
    );
  });

  it('refuses a file too large, or holding more aliases than a person writes, before building it', async () => {
    const { parseYamlConfig, MAX_YAML_ALIASES, MAX_YAML_BYTES } = await import('./yaml-config.js');
    const { z } = await import('zod');
    const any = z.unknown();
    assert.throws(
      () => parseYamlConfig(`a: "${'x'.repeat(MAX_YAML_BYTES)}"\n`, 'big.yaml', any),
      /^ConfigError: big\.yaml: is \d+ bytes, more than the 1048576 a file may have$/,
    );
    // The "billion laughs" shape: each line refers to the one before it, many times over.
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 200; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    assert.throws(
      () => parseYamlConfig(lines.join('\n'), 'laughs.yaml', any),
      new RegExp(`laughs\\.yaml:\\d+:0: holds more than ${MAX_YAML_ALIASES} YAML aliases`),
    );
    // Host patterns are quoted, so their "*" is no alias.
    const hosts = Array.from({ length: 1500 }, (_, i) => `  - host: "*.h${i}.test"`).join('\n');
    assert.doesNotThrow(() => parseYamlConfig(`allow:\n${hosts}\n`, 'hosts.yaml', any));
  });
});
