/**
 * Profile selectors ({ text, id, … }) as locators: a `-android uiautomator` UiSelector expression for
 * UiAutomator2, or an XPath over the page source for drivers without UiSelector support.
 */
import type { UiSelector } from '../run/ui.js';

/** A WebDriver locator: strategy and value. */
export interface Locator {
  using: '-android uiautomator' | 'xpath';
  value: string;
}

/** A Java string literal as the UiSelector parser reads it. */
export function javaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `new UiSelector().resourceId("…").text("…")` (fields in a fixed order). */
export function uiSelectorExpression(sel: UiSelector): string {
  const parts: string[] = [];
  if (sel.id !== undefined) parts.push(`.resourceId(${javaString(sel.id)})`);
  if (sel.className !== undefined) parts.push(`.className(${javaString(sel.className)})`);
  if (sel.text !== undefined) parts.push(`.text(${javaString(sel.text)})`);
  if (sel.textContains !== undefined) parts.push(`.textContains(${javaString(sel.textContains)})`);
  if (sel.description !== undefined) parts.push(`.description(${javaString(sel.description)})`);
  if (parts.length === 0)
    throw new Error('a UI selector needs at least one of text, textContains, id, description, className');
  return `new UiSelector()${parts.join('')}`;
}

/** Scrolls the first scrollable view until the element is in view, and finds it. */
export function scrollIntoViewExpression(sel: UiSelector): string {
  return `new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(${uiSelectorExpression(sel)})`;
}

/** An XPath 1.0 string literal (XPath has no escapes: quotes are switched, or concat() used). */
export function xpathString(s: string): string {
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return `concat(${s
    .split('"')
    .map((p) => `"${p}"`)
    .join(`, '"', `)})`;
}

/** `//*[@resource-id="…"][@text="…"]` over UiAutomator2's page source attributes. */
export function xpathExpression(sel: UiSelector): string {
  const preds: string[] = [];
  if (sel.id !== undefined) preds.push(`[@resource-id=${xpathString(sel.id)}]`);
  if (sel.className !== undefined) preds.push(`[@class=${xpathString(sel.className)}]`);
  if (sel.text !== undefined) preds.push(`[@text=${xpathString(sel.text)}]`);
  if (sel.textContains !== undefined) preds.push(`[contains(@text, ${xpathString(sel.textContains)})]`);
  if (sel.description !== undefined) preds.push(`[@content-desc=${xpathString(sel.description)}]`);
  if (preds.length === 0)
    throw new Error('a UI selector needs at least one of text, textContains, id, description, className');
  return `//*${preds.join('')}`;
}

/** A selector in words, for step details and errors: text "Cloud backup", id "…". */
export function describeSelector(sel: UiSelector): string {
  const parts: string[] = [];
  if (sel.text !== undefined) parts.push(`text ${JSON.stringify(sel.text)}`);
  if (sel.textContains !== undefined) parts.push(`text containing ${JSON.stringify(sel.textContains)}`);
  if (sel.id !== undefined) parts.push(`id ${JSON.stringify(sel.id)}`);
  if (sel.description !== undefined) parts.push(`description ${JSON.stringify(sel.description)}`);
  if (sel.className !== undefined) parts.push(`class ${JSON.stringify(sel.className)}`);
  return parts.join(', ');
}

/** The locator of a selector in a dialect. */
export function locatorFor(sel: UiSelector, dialect: 'uiautomator' | 'xpath'): Locator {
  return dialect === 'uiautomator'
    ? { using: '-android uiautomator', value: uiSelectorExpression(sel) }
    : { using: 'xpath', value: xpathExpression(sel) };
}
