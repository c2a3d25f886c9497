/**
 * The find strategies of POST /element(s), as the server resolves them over a snapshot: id (bare ids
 * completed with the session's appPackage), accessibility id, class name, xpath, -android uiautomator.
 */
import { attr, descendants, type UiElement } from './ui-element.js';
import { findByUiAutomator, UiSelectorError } from './ui-selector.js';
import { compileXPath } from './xpath.js';
import { XPathError } from './xpath-parse.js';

/** Strategies the server knows. */
export const STRATEGIES = ['id', 'accessibility id', 'class name', 'xpath', '-android uiautomator'] as const;

/** A locator that cannot be used: unknown strategy or unparsable selector. */
export class LocatorError extends Error {
  constructor(
    message: string,
    /** 'invalid selector' for a bad selector, 'invalid argument' for an unknown strategy. */
    readonly w3cError: 'invalid selector' | 'invalid argument',
  ) {
    super(message);
    this.name = 'LocatorError';
  }
}

const FULL_ID = /^[a-zA-Z_][a-zA-Z0-9._]*:[^/]+\/\S+$/;

/** A bare resource id ("row") as the server completes it ("<appPackage>:id/row"). */
export function completeId(id: string, appPackage: string | undefined): string {
  return FULL_ID.test(id) || !appPackage ? id : `${appPackage}:id/${id}`;
}

/** Elements under `scope` that a locator finds, in document order. */
export function locate(
  scope: UiElement,
  strategy: string,
  selector: string,
  appPackage: string | undefined,
): UiElement[] {
  const all = () => descendants(scope).filter((e) => e.node !== undefined);
  switch (strategy) {
    case 'id': {
      const full = completeId(selector, appPackage);
      return all().filter((e) => attr(e, 'resource-id') === full);
    }
    case 'accessibility id':
      return all().filter((e) => attr(e, 'content-desc') === selector);
    case 'class name': {
      const cls = selector.startsWith('.') ? `android.widget${selector}` : selector;
      return all().filter((e) => attr(e, 'class') === cls);
    }
    case 'xpath':
      try {
        return compileXPath(selector)(scope);
      } catch (e) {
        if (e instanceof XPathError) throw new LocatorError(e.message, 'invalid selector');
        throw e;
      }
    case '-android uiautomator':
      try {
        return findByUiAutomator(scope, selector);
      } catch (e) {
        if (e instanceof UiSelectorError) throw new LocatorError(e.message, 'invalid selector');
        throw e;
      }
  }
  throw new LocatorError(
    `Locator strategy '${strategy}' is not supported; use one of ${STRATEGIES.join(', ')}`,
    'invalid argument',
  );
}
