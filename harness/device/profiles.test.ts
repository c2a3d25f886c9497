import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../errors.js';
import { bundledDevicesDir } from '../project-dir.js';
import { loadProfiles } from './profiles.js';

test("the default profiles are phonehome's own, wherever it is started from", async () => {
  const here = process.cwd();
  const elsewhere = mkdtempSync(join(tmpdir(), 'phonehome-profiles-'));
  try {
    process.chdir(elsewhere);
    assert.equal(bundledDevicesDir(), resolve(here, 'devices'));
    const names = (await loadProfiles()).map((p) => p.name);
    assert.deepEqual(names, ['pixel-stock', 'xiaomi-miui-global']);
  } finally {
    process.chdir(here);
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test('a profiles folder that is missing, or a file, is a usage error naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phonehome-profiles-'));
  try {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    for (const root of [join(dir, 'missing'), file]) {
      await assert.rejects(loadProfiles(root), (e) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.equal(
          e.message,
          `no device profiles: ${root} is not a folder (give one with --devices-dir, or devicesDir in the config)`,
        );
        return true;
      });
    }
    // An empty folder is not an error: there are simply no profiles.
    assert.deepEqual(await loadProfiles(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
