/**
 * `-android uiautomator` locators: Java-like UiSelector chains (`new UiSelector().text("OK")
 * .className("android.widget.Button").instance(1)`), `.childSelector(…)` / `.fromParent(…)`, and
 * `new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(new UiSelector()…)`, parsed into
 * plain data and matched against a UiElement snapshot. Several statements may be joined with ';'.
 */
import { attr, descendants, type UiElement } from './ui-element.js';

/** A locator the parser does not understand; the server answers `invalid selector`. */
export class UiSelectorError extends Error {
  constructor(
    readonly selector: string,
    reason: string,
  ) {
    super(`Could not parse UiSelector argument '${selector}': ${reason}`);
    this.name = 'UiSelectorError';
  }
}

type Arg = string | number | boolean | Selector;

/** One UiSelector: its attribute criteria in call order, and its chained relatives. */
export interface Selector {
  /** [method, argument] in call order (instance is kept apart). */
  criteria: [method: string, arg: string | number | boolean][];
  /** The nth match (0-based), as `.instance(n)`. */
  instance?: number;
  /** `.childSelector(s)`: s must match under a match of this selector. */
  child?: Selector;
  /** `.fromParent(s)`: s must match under the parent of a match of this selector. */
  fromParent?: Selector;
}

/** A parsed statement: a selector, or a UiScrollable call. */
export type Statement =
  | { kind: 'selector'; selector: Selector }
  | { kind: 'scrollable'; container: Selector; method: string; target?: Selector; text?: string };

const STRING_METHODS = new Set([
  'text',
  'textContains',
  'textStartsWith',
  'textMatches',
  'description',
  'descriptionContains',
  'descriptionStartsWith',
  'descriptionMatches',
  'resourceId',
  'resourceIdMatches',
  'className',
  'classNameMatches',
  'packageName',
  'packageNameMatches',
]);
const BOOL_METHODS = new Set([
  'clickable',
  'scrollable',
  'enabled',
  'checked',
  'checkable',
  'focusable',
  'focused',
  'selected',
  'longClickable',
]);
const INT_METHODS = new Set(['index', 'instance']);
const SCROLL_TO = new Set([
  'scrollIntoView',
  'scrollTextIntoView',
  'getChildByText',
  'getChildByDescription',
]);
const SCROLL_SETTINGS = new Set([
  'setAsVerticalList',
  'setAsHorizontalList',
  'setMaxSearchSwipes',
  'setSwipeDeadZonePercentage',
]);

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private fail(reason: string): never {
    throw new UiSelectorError(this.src, `${reason} at position ${this.pos}`);
  }
  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }
  private eat(s: string): boolean {
    this.ws();
    if (this.src.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  private expect(s: string): void {
    if (!this.eat(s)) this.fail(`expected '${s}'`);
  }
  private ident(): string {
    this.ws();
    const m = /^[A-Za-z_$][\w$.]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  statements(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      this.ws();
      if (this.pos >= this.src.length) break;
      out.push(this.statement());
      if (!this.eat(';')) break;
    }
    this.ws();
    if (this.pos < this.src.length) this.fail(`unexpected '${this.src[this.pos]}'`);
    if (out.length === 0) this.fail('empty locator');
    return out;
  }

  private statement(): Statement {
    this.expect('new');
    const cls = this.ident().replace(/^.*\./, '');
    if (cls === 'UiSelector') {
      this.expect('(');
      this.expect(')');
      return { kind: 'selector', selector: this.methods({ criteria: [] }) };
    }
    if (cls !== 'UiScrollable') this.fail(`${cls} is neither UiSelector nor UiScrollable`);
    this.expect('(');
    const container = this.arg();
    if (typeof container !== 'object') this.fail('UiScrollable takes a UiSelector');
    this.expect(')');
    for (;;) {
      if (!this.eat('.')) this.fail('UiScrollable needs a method such as scrollIntoView');
      const m = this.ident();
      const args = this.args();
      if (SCROLL_SETTINGS.has(m)) continue;
      if (!SCROLL_TO.has(m)) this.fail(`UiScrollable.${m} is not supported`);
      const first = args[0];
      if (m === 'scrollIntoView' && typeof first === 'object')
        return { kind: 'scrollable', container, method: m, target: first };
      if (m === 'scrollTextIntoView' && typeof first === 'string')
        return { kind: 'scrollable', container, method: m, text: first };
      if (typeof first === 'object' && typeof args[1] === 'string')
        return { kind: 'scrollable', container, method: m, target: first, text: args[1] };
      this.fail(`bad arguments to UiScrollable.${m}`);
    }
  }

  private methods(sel: Selector): Selector {
    while (this.eat('.')) {
      const m = this.ident();
      const args = this.args();
      const a = args[0];
      if (m === 'childSelector' || m === 'fromParent') {
        if (typeof a !== 'object' || args.length !== 1) this.fail(`${m} takes a UiSelector`);
        if (m === 'childSelector') sel.child = a;
        else sel.fromParent = a;
      } else if (STRING_METHODS.has(m)) {
        if (typeof a !== 'string' || args.length !== 1) this.fail(`${m} takes a string`);
        sel.criteria.push([m, a]);
      } else if (BOOL_METHODS.has(m)) {
        if (typeof a !== 'boolean' || args.length !== 1) this.fail(`${m} takes a boolean`);
        sel.criteria.push([m, a]);
      } else if (INT_METHODS.has(m)) {
        if (typeof a !== 'number' || args.length !== 1) this.fail(`${m} takes an integer`);
        if (m === 'instance') sel.instance = a;
        else sel.criteria.push([m, a]);
      } else this.fail(`UiSelector has no method ${m}`);
    }
    return sel;
  }

  private args(): Arg[] {
    this.expect('(');
    const out: Arg[] = [];
    if (this.eat(')')) return out;
    do out.push(this.arg());
    while (this.eat(','));
    this.expect(')');
    return out;
  }

  private arg(): Arg {
    this.ws();
    const rest = this.src.slice(this.pos);
    if (rest.startsWith('"')) return this.string();
    const num = /^-?\d+/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    if (this.eat('true')) return true;
    if (this.eat('false')) return false;
    if (rest.startsWith('new')) {
      const st = this.statement();
      if (st.kind !== 'selector') this.fail('expected a UiSelector argument');
      return st.selector;
    }
    return this.fail('expected an argument');
  }

  private string(): string {
    this.pos++; // opening quote
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos++]!;
      if (ch === '"') return out;
      if (ch === '\\') {
        const next = this.src[this.pos++];
        if (next === undefined) break;
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else out += ch;
    }
    return this.fail('unterminated string');
  }
}

/** Parses a `-android uiautomator` locator. */
export function parseUiAutomator(source: string): Statement[] {
  return new Parser(source).statements();
}

function regex(selector: string, pattern: string): RegExp {
  try {
    // Java's String.matches: the whole value must match.
    return new RegExp(`^(?:${pattern})$`, 's');
  } catch {
    throw new UiSelectorError(selector, `bad regular expression ${pattern}`);
  }
}

function matchesCriteria(el: UiElement, sel: Selector, source: string): boolean {
  if (!el.node) return false;
  for (const [m, a] of sel.criteria) {
    const get = (name: string) => attr(el, name) ?? '';
    let ok: boolean;
    switch (m) {
      case 'text':
        ok = get('text') === a;
        break;
      case 'textContains':
        ok = get('text').includes(String(a));
        break;
      case 'textStartsWith':
        ok = get('text').startsWith(String(a));
        break;
      case 'textMatches':
        ok = regex(source, String(a)).test(get('text'));
        break;
      case 'description':
        ok = attr(el, 'content-desc') === a;
        break;
      case 'descriptionContains':
        ok = get('content-desc').includes(String(a));
        break;
      case 'descriptionStartsWith':
        ok = get('content-desc').startsWith(String(a));
        break;
      case 'descriptionMatches':
        ok = regex(source, String(a)).test(get('content-desc'));
        break;
      case 'resourceId':
        ok = attr(el, 'resource-id') === a;
        break;
      case 'resourceIdMatches':
        ok = regex(source, String(a)).test(get('resource-id'));
        break;
      case 'className':
        ok = get('class') === a;
        break;
      case 'classNameMatches':
        ok = regex(source, String(a)).test(get('class'));
        break;
      case 'packageName':
        ok = get('package') === a;
        break;
      case 'packageNameMatches':
        ok = regex(source, String(a)).test(get('package'));
        break;
      case 'index':
        ok = get('index') === String(a);
        break;
      case 'longClickable':
        ok = get('long-clickable') === String(a);
        break;
      default:
        ok = get(m) === String(a);
    }
    if (!ok) return false;
  }
  return true;
}

/** Elements under `scope` matching a selector (with its instance and chained relatives), in order. */
export function matchSelector(scope: UiElement, sel: Selector, source: string): UiElement[] {
  let found = descendants(scope).filter((e) => matchesCriteria(e, sel, source));
  if (sel.child) {
    const child = sel.child;
    found = unique(found.flatMap((e) => matchSelector(e, child, source)));
  }
  if (sel.fromParent) {
    const rel = sel.fromParent;
    found = unique(found.flatMap((e) => (e.parent ? matchSelector(e.parent, rel, source) : [])));
  }
  if (sel.instance !== undefined) {
    const one = found[sel.instance];
    return one ? [one] : [];
  }
  return found;
}

function unique(els: UiElement[]): UiElement[] {
  return [...new Set(els)].sort((a, b) => a.order - b.order);
}

/**
 * Runs parsed statements; the first statement that finds something wins. The simulated screens fit
 * on one page and have no scrollable list, so a UiScrollable whose container is not on screen searches
 * the whole window (nothing needs scrolling there); with a container it searches inside it.
 */
export function findByUiAutomator(scope: UiElement, source: string): UiElement[] {
  for (const st of parseUiAutomator(source)) {
    let found: UiElement[];
    if (st.kind === 'selector') found = matchSelector(scope, st.selector, source);
    else {
      const containers = matchSelector(scope, st.container, source);
      const within = containers[0] ?? scope;
      const target: Selector = st.target
        ? {
            ...st.target,
            criteria: [
              ...st.target.criteria,
              ...(st.text !== undefined
                ? [
                    [st.method === 'getChildByDescription' ? 'description' : 'text', st.text] as [
                      string,
                      string,
                    ],
                  ]
                : []),
            ],
          }
        : { criteria: [['text', st.text ?? '']] };
      found = matchSelector(within, target, source).slice(0, 1);
    }
    if (found.length) return found;
  }
  return [];
}
