import assert from 'node:assert/strict';
import { test } from 'node:test';
import { htmlPage } from './html-page.js';
import { escapeHtml } from './html-text.js';

test('markup and attribute breakers become entities', () => {
  assert.equal(
    escapeHtml('<img src=x onerror=alert(1)>.example'),
    '&lt;img src=x onerror=alert(1)&gt;.example',
  );
  assert.equal(escapeHtml(`a"b'c&d\`e`), 'a&quot;b&#39;c&amp;d&#96;e');
  assert.equal(escapeHtml('&lt;'), '&amp;lt;', 'already-escaped text is escaped again, not trusted');
});

test('tables escape every cell and the caption; numbers are right-aligned', () => {
  const page = htmlPage('<title>', [
    { caption: '<b>c</b>', head: ['h<'], rows: [['</td><script>x()</script>', 42]], empty: '' },
    { caption: 'none', head: ['x'], rows: [], empty: '<nothing>' },
  ]);
  assert.ok(!page.includes('<script>'));
  assert.ok(!page.includes('<b>c</b>'));
  assert.ok(page.includes('<td>&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;</td><td class="n">42</td>'));
  assert.ok(page.includes('&lt;nothing&gt;'));
  assert.ok(page.includes('<title>&lt;title&gt;</title>'));
});
