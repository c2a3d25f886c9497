/** The XPath subset over a snapshot of a simulated Xiaomi showing its Gallery app. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from '../phone/run-shell.js';
import { screenTree } from '../phone/screen-model.js';
import { attr, snapshot, type UiElement } from './ui-element.js';
import { compileXPath } from './xpath.js';
import { XPathError } from './xpath-parse.js';

let root: UiElement;

before(async () => {
  const phone = await makePhone('xiaomi');
  await runShell(phone, 'am start -n com.miui.gallery/.activity.HomePageActivity');
  root = snapshot(screenTree(phone.state), {
    window: 'w',
    rotation: 0,
    width: 1080,
    height: 2400,
    typed: new Map(),
  });
});
after(cleanupPhones);

const texts = (xp: string, ctx: UiElement = root) => compileXPath(xp)(ctx).map((e) => attr(e, 'text'));
const ids = (xp: string) => compileXPath(xp)(root).map((e) => attr(e, 'resource-id'));

test('class-name steps, attribute tests, descendant and child axes', () => {
  assert.deepEqual(texts('//android.widget.TextView[@text="Gallery item 2"]'), ['Gallery item 2']);
  assert.deepEqual(texts("//*[@text='Gallery']"), ['Gallery']);
  assert.equal(compileXPath('//android.widget.LinearLayout')(root).length, 5);
  assert.equal(
    compileXPath('/hierarchy/android.widget.FrameLayout/android.widget.LinearLayout')(root).length,
    5,
  );
  assert.equal(texts('/hierarchy/*/*/android.widget.TextView[@resource-id="android:id/summary"]').length, 5);
  assert.deepEqual(texts('/hierarchy/*/android.widget.TextView[@resource-id="android:id/summary"]'), []);
  assert.deepEqual(compileXPath('//hierarchy')(root), []);
  assert.equal(
    compileXPath('//*[@resource-id]')(root).length,
    compileXPath('//*[@resource-id!=""]')(root).length,
  );
});

test('positions: per step, of a parenthesised set, last(), position()', () => {
  assert.deepEqual(texts('//android.widget.LinearLayout[2]/android.widget.TextView'), ['Gallery item 2']);
  assert.deepEqual(texts('(//android.widget.TextView[contains(@text,"item")])[last()]'), ['Gallery item 5']);
  assert.deepEqual(texts('(//android.widget.TextView[contains(@text,"item")])[position()>3]'), [
    'Gallery item 4',
    'Gallery item 5',
  ]);
  // [1] applies per parent: every row's first TextView.
  assert.equal(compileXPath('//android.widget.LinearLayout/android.widget.TextView[1]')(root).length, 5);
});

test('functions, and/or/not, parent and sibling axes, unions', () => {
  assert.deepEqual(texts('//*[starts-with(@text,"Gallery i") and ends-with(@text,"3")]'), ['Gallery item 3']);
  assert.deepEqual(texts('//*[@text="Gallery item 1" or @text="Gallery item 5"]'), [
    'Gallery item 1',
    'Gallery item 5',
  ]);
  assert.equal(compileXPath('//android.widget.TextView[not(@clickable="false")]')(root).length, 0);
  assert.deepEqual(ids('//*[@text="Gallery item 4"]/..'), ['com.miui.gallery:id/row']);
  assert.deepEqual(ids('//*[@text="Gallery item 4"]/ancestor::*[@resource-id][1]'), [
    'com.miui.gallery:id/row',
  ]);
  assert.deepEqual(texts('//*[@text="Gallery item 1"]/../following-sibling::*[1]/*'), ['Gallery item 2']);
  assert.deepEqual(ids('//*[@content-desc="Back"] | //*[@content-desc="Home"]'), [
    'com.android.systemui:id/back',
    'com.android.systemui:id/home',
  ]);
  assert.deepEqual(texts('//*[matches(@text, "item [45]$")]'), ['Gallery item 4', 'Gallery item 5']);
  assert.deepEqual(
    texts('//*[count(*)=1 and @clickable="true"]/*'),
    [1, 2, 3, 4, 5].map((i) => `Gallery item ${i}`),
  );
});

test('relative paths start at the context element', () => {
  const row3 = compileXPath('//android.widget.LinearLayout[3]')(root)[0]!;
  assert.deepEqual(texts('./android.widget.TextView', row3), ['Gallery item 3']);
  assert.deepEqual(texts('.//*', row3), ['Gallery item 3']);
});

test('outside the subset: invalid selector errors, not wrong answers', () => {
  for (const bad of ['//*[@text=', '//*[', 'foo::bar', '//*[unknown()]', 'count(//*)', '//*[@text="a"]]'])
    assert.throws(() => compileXPath(bad)(root), XPathError, bad);
});
