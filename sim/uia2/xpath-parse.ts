/** The XPath subset's grammar: the expression text into a tree (paths, steps, predicates, operators, calls). */
import type { UiElement } from './ui-element.js';

/** An XPath the subset cannot parse; the server answers `invalid selector`. */
export class XPathError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`Cannot evaluate '${expression}': ${reason}`);
    this.name = 'XPathError';
  }
}

export type Value = UiElement[] | { attrs: string[] } | string | number | boolean;

export type Expr =
  | { k: 'lit'; v: string | number }
  | { k: 'fn'; name: string; args: Expr[] }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'path'; absolute: boolean; from?: Expr; steps: Step[] }
  | { k: 'filter'; e: Expr; preds: Expr[] }
  | { k: 'neg'; e: Expr };

export interface Step {
  axis: string;
  /** Name test: a tag or attribute name, '*' for any, 'node()' for any node. */
  test: string;
  preds: Expr[];
}

export const AXES = new Set([
  'child',
  'descendant',
  'descendant-or-self',
  'parent',
  'ancestor',
  'ancestor-or-self',
  'following-sibling',
  'preceding-sibling',
  'following',
  'preceding',
  'self',
  'attribute',
]);

export const REVERSE = new Set(['parent', 'ancestor', 'ancestor-or-self', 'preceding-sibling', 'preceding']);

export function tokenize(src: string): string[] {
  const out: string[] = [];
  const re =
    /\s*(?:("[^"]*"|'[^']*')|(\d+(?:\.\d*)?|\.\d+)|(\/\/|\/|::|\.\.|\.|\(|\)|\[|\]|@|,|\||!=|<=|>=|=|<|>|\*|-|\+)|([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?))/y;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) {
      if (/^\s*$/.test(src.slice(pos))) break;
      throw new XPathError(src, `unexpected character at ${pos}`);
    }
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
    pos = re.lastIndex;
  }
  return out;
}

export class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly t: string[],
  ) {}

  parse(): Expr {
    const e = this.or();
    if (this.i < this.t.length) this.fail(`unexpected '${this.t[this.i]}'`);
    return e;
  }

  private fail(reason: string): never {
    throw new XPathError(this.src, reason);
  }
  private peek(o = 0): string | undefined {
    return this.t[this.i + o];
  }
  private eat(tok: string): boolean {
    if (this.t[this.i] === tok) {
      this.i++;
      return true;
    }
    return false;
  }
  private expect(tok: string): void {
    if (!this.eat(tok)) this.fail(`expected '${tok}' but found '${this.peek() ?? 'end'}'`);
  }

  private or(): Expr {
    let l = this.and();
    while (this.eat('or')) l = { k: 'bin', op: 'or', l, r: this.and() };
    return l;
  }
  private and(): Expr {
    let l = this.eq();
    while (this.eat('and')) l = { k: 'bin', op: 'and', l, r: this.eq() };
    return l;
  }
  private eq(): Expr {
    let l = this.rel();
    for (let op = this.peek(); op === '=' || op === '!='; op = this.peek()) {
      this.i++;
      l = { k: 'bin', op, l, r: this.rel() };
    }
    return l;
  }
  private rel(): Expr {
    let l = this.additive();
    for (let op = this.peek(); op === '<' || op === '>' || op === '<=' || op === '>='; op = this.peek()) {
      this.i++;
      l = { k: 'bin', op, l, r: this.additive() };
    }
    return l;
  }
  private additive(): Expr {
    let l = this.unary();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.i++;
      l = { k: 'bin', op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Expr {
    if (this.eat('-')) return { k: 'neg', e: this.unary() };
    return this.union();
  }
  private union(): Expr {
    let l = this.pathExpr();
    while (this.eat('|')) l = { k: 'bin', op: '|', l, r: this.pathExpr() };
    return l;
  }

  private isPrimaryStart(): boolean {
    const t = this.peek();
    if (t === undefined) return false;
    if (t === '(' || /^["'\d]/.test(t) || /^\.\d/.test(t)) return true;
    // name( is a function call unless it is a node type test.
    return /^[A-Za-z_]/.test(t) && this.peek(1) === '(' && t !== 'node' && t !== 'text';
  }

  private pathExpr(): Expr {
    if (this.isPrimaryStart()) {
      let e = this.primary();
      const preds: Expr[] = [];
      while (this.peek() === '[') preds.push(this.predicate());
      if (preds.length) e = { k: 'filter', e, preds };
      if (this.peek() === '/' || this.peek() === '//') {
        const steps: Step[] = [];
        this.relativePath(steps);
        return { k: 'path', absolute: false, from: e, steps };
      }
      return e;
    }
    const steps: Step[] = [];
    if (this.eat('/')) {
      const t = this.peek();
      if (t === undefined || t === ')' || t === ']' || t === '|' || t === ',') {
        return { k: 'path', absolute: true, steps };
      }
      this.step(steps);
      this.continuePath(steps);
      return { k: 'path', absolute: true, steps };
    }
    if (this.eat('//')) {
      steps.push({ axis: 'descendant-or-self', test: 'node()', preds: [] });
      this.step(steps);
      this.continuePath(steps);
      return { k: 'path', absolute: true, steps };
    }
    this.step(steps);
    this.continuePath(steps);
    return { k: 'path', absolute: false, steps };
  }

  private relativePath(steps: Step[]): void {
    this.continuePath(steps);
  }

  private continuePath(steps: Step[]): void {
    for (;;) {
      if (this.eat('/')) this.step(steps);
      else if (this.eat('//')) {
        steps.push({ axis: 'descendant-or-self', test: 'node()', preds: [] });
        this.step(steps);
      } else return;
    }
  }

  private step(steps: Step[]): void {
    if (this.eat('.')) {
      steps.push({ axis: 'self', test: 'node()', preds: [] });
      return;
    }
    if (this.eat('..')) {
      steps.push({ axis: 'parent', test: 'node()', preds: [] });
      return;
    }
    let axis = 'child';
    if (this.eat('@')) axis = 'attribute';
    else if (this.peek(1) === '::') {
      axis = this.t[this.i]!;
      if (!AXES.has(axis)) this.fail(`unknown axis ${axis}`);
      this.i += 2;
    }
    const t = this.peek();
    let test: string;
    if (t === '*') {
      this.i++;
      test = '*';
    } else if (t !== undefined && /^[A-Za-z_]/.test(t)) {
      this.i++;
      test = t;
      if ((t === 'node' || t === 'text') && this.peek() === '(') {
        this.expect('(');
        this.expect(')');
        test = `${t}()`;
      }
    } else this.fail(`expected a node test but found '${t ?? 'end'}'`);
    const preds: Expr[] = [];
    while (this.peek() === '[') preds.push(this.predicate());
    steps.push({ axis, test, preds });
  }

  private predicate(): Expr {
    this.expect('[');
    const e = this.or();
    this.expect(']');
    return e;
  }

  private primary(): Expr {
    const t = this.t[this.i]!;
    if (t === '(') {
      this.i++;
      const e = this.or();
      this.expect(')');
      return e;
    }
    if (t.startsWith('"') || t.startsWith("'")) {
      this.i++;
      return { k: 'lit', v: t.slice(1, -1) };
    }
    if (/^[\d.]/.test(t)) {
      this.i++;
      return { k: 'lit', v: Number(t) };
    }
    this.i++;
    this.expect('(');
    const args: Expr[] = [];
    if (!this.eat(')')) {
      do args.push(this.or());
      while (this.eat(','));
      this.expect(')');
    }
    return { k: 'fn', name: t, args };
  }
}
