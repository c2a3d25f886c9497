import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executorFromEnv, formatEnvironmentProperties } from './launch-info.js';

test('environment.properties: every version on its own line, Java-escaped', () => {
  const text = formatEnvironmentProperties({
    phonehome: '0.1.0',
    adb: 'Android Debug Bridge version 1.0.41 / Version 29.0.6-debian',
    appium: '2.11.3',
    host: 'lab=1:a',
    node: 'v20.20.2',
  });
  assert.equal(
    text,
    'phonehome=0.1.0\n' +
      'adb=Android Debug Bridge version 1.0.41 / Version 29.0.6-debian\n' +
      'Appium=2.11.3\n' +
      'host=lab=1:a\n' +
      'Node.js=v20.20.2\n',
  );
  const odd = formatEnvironmentProperties({ phonehome: 'x', adb: 'a\nb\\c é', host: ' h', node: 'v' });
  assert.match(odd, /^adb=a\\nb\\\\c \\u00e9$/m);
  assert.match(odd, /^host=\\ h$/m);
  assert.ok(!odd.includes('UiAutomator2'), 'versions not given are left out');
});

test('executor.json from GitHub Actions variables', () => {
  const env = {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'lab/phonehome',
    GITHUB_RUN_ID: '987654321',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_WORKFLOW: 'nightly',
  };
  assert.deepEqual(executorFromEnv(env, 'https://lab.example/reports/42/'), {
    name: 'GitHub Actions',
    type: 'github',
    reportName: 'phonehome',
    url: 'https://github.com/lab/phonehome/actions',
    buildOrder: 42,
    buildName: 'nightly #42 (attempt 2)',
    buildUrl: 'https://github.com/lab/phonehome/actions/runs/987654321/attempts/2',
    reportUrl: 'https://lab.example/reports/42/',
  });
  assert.equal(executorFromEnv({ HOME: '/root' }), undefined, 'nothing outside GitHub Actions');
  const first = executorFromEnv({
    ...env,
    GITHUB_RUN_ATTEMPT: '1',
    PHONEHOME_REPORT_URL: 'https://r.example/',
  });
  assert.equal(first?.buildUrl, 'https://github.com/lab/phonehome/actions/runs/987654321');
  assert.equal(first?.reportUrl, 'https://r.example/');
});
