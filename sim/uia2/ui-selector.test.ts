/** UiSelector locators over a snapshot of a simulated Xiaomi showing its Gallery app. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from '../phone/run-shell.js';
import { screenTree } from '../phone/screen-model.js';
import { attr, snapshot, type UiElement } from './ui-element.js';
import { findByUiAutomator, parseUiAutomator, UiSelectorError } from './ui-selector.js';

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

const texts = (sel: string) => findByUiAutomator(root, sel).map((e) => attr(e, 'text'));
const descs = (sel: string) => findByUiAutomator(root, sel).map((e) => attr(e, 'content-desc'));

test('text, description, resource id, class and state criteria', () => {
  assert.deepEqual(texts('new UiSelector().text("Gallery item 2")'), ['Gallery item 2']);
  assert.deepEqual(texts('new UiSelector().textContains("item 4")'), ['Gallery item 4']);
  assert.equal(texts('new UiSelector().textStartsWith("Gallery ")').length, 5);
  assert.deepEqual(texts('new UiSelector().textMatches("Gallery item [12]")'), [
    'Gallery item 1',
    'Gallery item 2',
  ]);
  assert.deepEqual(descs('new UiSelector().description("Back")'), ['Back']);
  assert.deepEqual(descs('new UiSelector().descriptionContains("om")'), ['Home']);
  assert.equal(findByUiAutomator(root, 'new UiSelector().resourceId("com.miui.gallery:id/row")').length, 5);
  assert.equal(findByUiAutomator(root, 'new UiSelector().resourceIdMatches(".*:id/row")').length, 5);
  assert.equal(findByUiAutomator(root, 'new UiSelector().className("android.widget.ImageView")').length, 2);
  assert.equal(
    findByUiAutomator(root, 'new UiSelector().clickable(true).className("android.widget.LinearLayout")')
      .length,
    5,
  );
  assert.equal(findByUiAutomator(root, 'new UiSelector().scrollable(true)').length, 0);
});

test('instance, index, childSelector, fromParent, several statements', () => {
  assert.deepEqual(texts('new UiSelector().resourceId("android:id/summary").instance(2)'), [
    'Gallery item 3',
  ]);
  assert.deepEqual(texts('new UiSelector().resourceId("android:id/summary").instance(9)'), []);
  assert.deepEqual(
    texts(
      'new UiSelector().className("android.widget.LinearLayout").index(5).childSelector(new UiSelector().index(0))',
    ),
    ['Gallery item 4'],
  );
  assert.deepEqual(
    descs(
      'new UiSelector().description("Back").fromParent(new UiSelector().className("android.widget.ImageView").instance(1))',
    ),
    ['Home'],
  );
  assert.deepEqual(texts('new UiSelector().text("nope"); new UiSelector().text("Gallery")'), ['Gallery']);
});

test('UiScrollable.scrollIntoView finds the target on a screen that needs no scrolling', () => {
  assert.deepEqual(
    texts(
      'new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(new UiSelector().text("Gallery item 5"))',
    ),
    ['Gallery item 5'],
  );
  assert.deepEqual(
    texts(
      'new UiScrollable(new UiSelector().scrollable(true).instance(0)).setAsVerticalList().scrollTextIntoView("Gallery item 1")',
    ),
    ['Gallery item 1'],
  );
  assert.deepEqual(
    texts('new UiScrollable(new UiSelector()).scrollIntoView(new UiSelector().text("missing"))'),
    [],
  );
});

test('parsing: string escapes, android.support prefixes; bad locators are errors', () => {
  const [st] = parseUiAutomator('new androidx.test.uiautomator.UiSelector().text("say \\"hi\\"")');
  assert.deepEqual(st, { kind: 'selector', selector: { criteria: [['text', 'say "hi"']] } });
  for (const bad of [
    'new UiSelector().bogus("x")',
    'new UiSelector().text(1)',
    'new UiSelector().text("x"',
    'UiSelector().text("x")',
    'new UiObject().text("x")',
    '',
  ])
    assert.throws(() => parseUiAutomator(bad), UiSelectorError, bad);
});
