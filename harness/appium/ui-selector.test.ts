import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeSelector,
  javaString,
  locatorFor,
  scrollIntoViewExpression,
  uiSelectorExpression,
  xpathExpression,
  xpathString,
} from './ui-selector.js';

test('profile selectors become UiSelector expressions, fields in a fixed order', () => {
  assert.equal(uiSelectorExpression({ text: 'Xiaomi Cloud' }), 'new UiSelector().text("Xiaomi Cloud")');
  assert.equal(
    uiSelectorExpression({ id: 'com.miui.cloudbackup:id/backup_switch' }),
    'new UiSelector().resourceId("com.miui.cloudbackup:id/backup_switch")',
  );
  assert.equal(
    uiSelectorExpression({ description: 'Navigate up', className: 'android.widget.ImageButton' }),
    'new UiSelector().className("android.widget.ImageButton").description("Navigate up")',
  );
  assert.equal(uiSelectorExpression({ textContains: 'backup' }), 'new UiSelector().textContains("backup")');
});

test('quotes and backslashes are escaped as Java string literals', () => {
  assert.equal(javaString('Say "hi"'), String.raw`"Say \"hi\""`);
  assert.equal(javaString(String.raw`C:\path`), String.raw`"C:\\path"`);
  // A backslash before a quote: both escaped, the literal cannot be closed early.
  assert.equal(javaString(String.raw`a\"b`), String.raw`"a\\\"b"`);
  assert.equal(
    uiSelectorExpression({ text: `It's "on")` }),
    String.raw`new UiSelector().text("It's \"on\")")`,
  );
});

test('scrollTo uses UiScrollable over the first scrollable view', () => {
  assert.equal(
    scrollIntoViewExpression({ text: 'User Experience Program' }),
    'new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(new UiSelector().text("User Experience Program"))',
  );
});

test('XPath literals switch quotes or use concat()', () => {
  assert.equal(xpathString('plain'), '"plain"');
  assert.equal(xpathString('Say "hi"'), `'Say "hi"'`);
  assert.equal(xpathString(`it's "x"`), `concat("it's ", '"', "x", '"', "")`);
  assert.equal(
    xpathExpression({ id: 'a:id/b', textContains: 'Cloud' }),
    '//*[@resource-id="a:id/b"][contains(@text, "Cloud")]',
  );
  assert.equal(
    xpathExpression({ description: 'Up', className: 'x.Y' }),
    '//*[@class="x.Y"][@content-desc="Up"]',
  );
});

test('locators per dialect, and an empty selector is refused', () => {
  assert.deepEqual(locatorFor({ text: 'A' }, 'uiautomator'), {
    using: '-android uiautomator',
    value: 'new UiSelector().text("A")',
  });
  assert.deepEqual(locatorFor({ text: 'A' }, 'xpath'), { using: 'xpath', value: '//*[@text="A"]' });
  assert.throws(() => uiSelectorExpression({}), /at least one/);
  assert.throws(() => xpathExpression({}), /at least one/);
  assert.equal(describeSelector({ text: 'A', id: 'b' }), 'text "A", id "b"');
});
