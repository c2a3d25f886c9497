import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { bundledDevicesDir, phonehomePackage } from './project-dir.js';
import { phonehomeVersion } from './report/allure-results.js';

test("phonehome's own folder and version come from its package.json, and devices/ sits in it", async () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.deepEqual(phonehomePackage(), { dir: resolve('.'), version: manifest.version });
  assert.equal(await phonehomeVersion(), manifest.version);
  assert.equal(bundledDevicesDir(), resolve('devices'));
});
