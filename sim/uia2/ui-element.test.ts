/** The page source XML: escaping, omitted attributes, tags from class names, typed text, identities. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UiNode } from '../phone/ui-node.js';
import { attr, descendants, pageSourceXml, snapshot } from './ui-element.js';

const leaf = (partial: Partial<UiNode>): UiNode => ({
  cls: 'android.widget.TextView',
  pkg: 'com.example',
  text: '',
  bounds: [0, 0, 10, 10],
  clickable: false,
  children: [],
  ...partial,
});
const ctx = {
  window: 'com.example/.Main',
  rotation: 0,
  width: 100,
  height: 200,
  typed: new Map<string, string>(),
};

test('text is escaped, illegal XML characters become ?, absent description and id are left out', () => {
  const tree = leaf({
    cls: 'android.widget.FrameLayout',
    children: [
      leaf({ text: 'Tom & "Jerry" <3\u0001\nnext' }),
      leaf({ cls: 'com.example.Outer$Inner', desc: 'd' }),
    ],
  });
  const xml = pageSourceXml(snapshot(tree, ctx));
  assert.match(xml, /text="Tom &amp; &quot;Jerry&quot; &lt;3\?&#10;next"/);
  const lines = xml.split('\n');
  assert.equal(lines[1], '<hierarchy index="0" class="hierarchy" rotation="0" width="100" height="200">');
  assert.match(
    lines[3]!,
    /^ {4}<android\.widget\.TextView index="0" package="com\.example" class="android\.widget\.TextView" text="[^"]*" checkable=/,
  );
  assert.doesNotMatch(lines[3]!, /content-desc|resource-id/);
  assert.match(
    lines[4]!,
    /^ {4}<com\.example\.Outer\.Inner index="1" [^>]*class="com\.example\.Outer\$Inner" text="" content-desc="d" checkable/,
  );
  assert.equal(lines.at(-2), '</hierarchy>');
});

test('typed text shows in editable fields only; identities ignore text but not the window', () => {
  const field = leaf({ cls: 'android.widget.EditText', resourceId: 'com.example:id/q', text: 'hint' });
  const tree = leaf({ cls: 'android.widget.FrameLayout', children: [field] });
  const before = descendants(snapshot(tree, ctx))[1]!;
  assert.equal(attr(before, 'text'), 'hint');
  assert.equal(attr(before, 'input-type'), '1');
  const typed = new Map([[before.key, 'hello']]);
  const after = descendants(snapshot(tree, { ...ctx, typed }))[1]!;
  assert.equal(attr(after, 'text'), 'hello');
  assert.equal(after.key, before.key);
  const elsewhere = descendants(snapshot(tree, { ...ctx, window: 'com.example/.Other' }))[1]!;
  assert.notEqual(elsewhere.key, before.key);
});

test('a screen that is off is an empty hierarchy', () => {
  const root = snapshot(undefined, ctx);
  assert.equal(root.children.length, 0);
  assert.equal(
    pageSourceXml(root).split('\n')[1],
    '<hierarchy index="0" class="hierarchy" rotation="0" width="100" height="200" />',
  );
});
