/**
 * XPath over a UiElement snapshot, the way the server matches locators against its page source: the
 * location paths, axes, predicates (attribute tests, positions, and/or) and string functions that
 * Appium tests write, e.g. `//android.widget.TextView[@text="Wi-Fi"]`, `(//*[contains(@resource-id,
 * "row")])[2]`, `//*[@content-desc="Back"]/..`. Anything outside the subset is an invalid selector.
 */
import { attr, type UiElement } from './ui-element.js';
import { type Expr, Parser, REVERSE, tokenize, type Value, XPathError } from './xpath-parse.js';

interface Ctx {
  node: UiElement;
  pos: number;
  size: number;
  root: UiElement;
}

function docOrder(els: UiElement[]): UiElement[] {
  return [...new Set(els)].sort((a, b) => a.order - b.order);
}

function axisNodes(el: UiElement, axis: string): UiElement[] {
  const out: UiElement[] = [];
  const desc = (e: UiElement) => {
    for (const c of e.children) {
      out.push(c);
      desc(c);
    }
  };
  switch (axis) {
    case 'child':
      return [...el.children];
    case 'descendant':
      desc(el);
      return out;
    case 'descendant-or-self':
      out.push(el);
      desc(el);
      return out;
    case 'self':
      return [el];
    case 'parent':
      return el.parent ? [el.parent] : [];
    case 'ancestor':
    case 'ancestor-or-self': {
      if (axis === 'ancestor-or-self') out.push(el);
      for (let p = el.parent; p; p = p.parent) out.push(p);
      return out;
    }
    case 'following-sibling':
    case 'preceding-sibling': {
      const sibs = el.parent?.children ?? [];
      const i = sibs.indexOf(el);
      return axis === 'following-sibling' ? sibs.slice(i + 1) : sibs.slice(0, i).reverse();
    }
    case 'following':
    case 'preceding': {
      let root = el;
      while (root.parent) root = root.parent;
      const all: UiElement[] = [];
      const walk = (e: UiElement) => {
        all.push(e);
        for (const c of e.children) walk(c);
      };
      walk(root);
      const ancestors = new Set<UiElement>();
      for (let p = el.parent; p; p = p.parent) ancestors.add(p);
      if (axis === 'following') {
        const inside = new Set(axisNodes(el, 'descendant-or-self'));
        return all.filter((e) => e.order > el.order && !inside.has(e));
      }
      return all.filter((e) => e.order < el.order && !ancestors.has(e)).reverse();
    }
  }
  return out;
}

function matchesTest(el: UiElement, test: string): boolean {
  if (test === 'node()') return true;
  return el.tag !== '#document' && (test === '*' || el.tag === test);
}

function toStr(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '';
  return v.attrs[0] ?? '';
}
function toNum(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = toStr(v).trim();
  return s === '' ? Number.NaN : Number(s);
}
function toBool(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return v.attrs.length > 0;
}
/** The strings a value stands for in a comparison (element nodes have no text content). */
function strings(v: Value): string[] | undefined {
  if (Array.isArray(v)) return v.map(() => '');
  if (typeof v === 'object') return v.attrs;
  return undefined;
}

function compare(op: string, l: Value, r: Value): boolean {
  const ls = strings(l);
  const rs = strings(r);
  const cmp = (a: string | number | boolean, b: string | number | boolean): boolean => {
    if (op === '=' || op === '!=') {
      let eq: boolean;
      if (typeof a === 'boolean' || typeof b === 'boolean') eq = toBool(a) === toBool(b);
      else if (typeof a === 'number' || typeof b === 'number') eq = toNum(a) === toNum(b);
      else eq = a === b;
      return op === '=' ? eq : !eq;
    }
    const x = toNum(a);
    const y = toNum(b);
    return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
  };
  if (ls && rs) return ls.some((a) => rs.some((b) => cmp(a, b)));
  if (ls) return ls.some((a) => cmp(a, r as string | number | boolean));
  if (rs) return rs.some((b) => cmp(l as string | number | boolean, b));
  return cmp(l as string | number | boolean, r as string | number | boolean);
}

function applyPreds(nodes: UiElement[], preds: Expr[], ctx: Ctx, src: string): UiElement[] {
  let cur = nodes;
  for (const p of preds) {
    cur = cur.filter((node, i) => {
      const v = evaluate(p, { node, pos: i + 1, size: cur.length, root: ctx.root }, src);
      return typeof v === 'number' ? v === i + 1 : toBool(v);
    });
  }
  return cur;
}

function evalPath(e: Extract<Expr, { k: 'path' }>, ctx: Ctx, src: string): Value {
  let nodes: UiElement[];
  if (e.from) {
    const v = evaluate(e.from, ctx, src);
    if (!Array.isArray(v)) throw new XPathError(src, 'a path must start from a node-set');
    nodes = v;
  } else nodes = e.absolute ? [ctx.root] : [ctx.node];
  for (let s = 0; s < e.steps.length; s++) {
    const step = e.steps[s]!;
    if (step.axis === 'attribute') {
      if (s !== e.steps.length - 1) throw new XPathError(src, 'attributes have no children');
      const values: string[] = [];
      for (const n of nodes) {
        if (step.test === '*' || step.test === 'node()') values.push(...n.attrs.map(([, v]) => v));
        else {
          const v = attr(n, step.test);
          if (v !== undefined) values.push(v);
        }
      }
      return { attrs: values };
    }
    if (step.test === 'text()') {
      nodes = []; // the snapshot has no text nodes: text is an attribute
      continue;
    }
    const next: UiElement[] = [];
    for (const n of nodes) {
      const cand = axisNodes(n, step.axis).filter((c) => matchesTest(c, step.test));
      next.push(...applyPreds(cand, step.preds, ctx, src));
    }
    nodes = REVERSE.has(step.axis) || e.steps.length > 1 ? docOrder(next) : next;
  }
  return docOrder(nodes);
}

function evaluate(e: Expr, ctx: Ctx, src: string): Value {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'neg':
      return -toNum(evaluate(e.e, ctx, src));
    case 'path':
      return evalPath(e, ctx, src);
    case 'filter': {
      const v = evaluate(e.e, ctx, src);
      if (!Array.isArray(v)) throw new XPathError(src, 'predicates need a node-set');
      return applyPreds(v, e.preds, ctx, src);
    }
    case 'bin': {
      if (e.op === 'or') return toBool(evaluate(e.l, ctx, src)) || toBool(evaluate(e.r, ctx, src));
      if (e.op === 'and') return toBool(evaluate(e.l, ctx, src)) && toBool(evaluate(e.r, ctx, src));
      const l = evaluate(e.l, ctx, src);
      const r = evaluate(e.r, ctx, src);
      if (e.op === '|') {
        if (!Array.isArray(l) || !Array.isArray(r)) throw new XPathError(src, '| joins node-sets only');
        return docOrder([...l, ...r]);
      }
      if (e.op === '+') return toNum(l) + toNum(r);
      if (e.op === '-') return toNum(l) - toNum(r);
      return compare(e.op, l, r);
    }
    case 'fn':
      return callFunction(e.name, e.args, ctx, src);
  }
}

function callFunction(name: string, args: Expr[], ctx: Ctx, src: string): Value {
  const arg = (i: number) => evaluate(args[i]!, ctx, src);
  const s = (i: number) => toStr(arg(i));
  const need = (n: number) => {
    if (args.length !== n) throw new XPathError(src, `${name}() takes ${n} argument(s)`);
  };
  switch (name) {
    case 'contains':
      need(2);
      return s(0).includes(s(1));
    case 'starts-with':
      need(2);
      return s(0).startsWith(s(1));
    case 'ends-with':
      need(2);
      return s(0).endsWith(s(1));
    case 'matches': {
      if (args.length < 2 || args.length > 3) throw new XPathError(src, 'matches() takes 2 or 3 arguments');
      try {
        return new RegExp(
          s(1),
          args.length === 3
            ? s(2)
                .replace(/[^imsx]/g, '')
                .replace('x', '')
            : '',
        ).test(s(0));
      } catch {
        throw new XPathError(src, `bad regular expression ${s(1)}`);
      }
    }
    case 'not':
      need(1);
      return !toBool(arg(0));
    case 'true':
      return true;
    case 'false':
      return false;
    case 'position':
      return ctx.pos;
    case 'last':
      return ctx.size;
    case 'count': {
      need(1);
      const v = arg(0);
      if (Array.isArray(v)) return v.length;
      if (typeof v === 'object') return v.attrs.length;
      throw new XPathError(src, 'count() needs a node-set');
    }
    case 'string':
      return args.length ? s(0) : '';
    case 'string-length':
      return args.length ? s(0).length : 0;
    case 'normalize-space':
      return (args.length ? s(0) : '').trim().replace(/\s+/g, ' ');
    case 'number':
      return toNum(arg(0));
    case 'concat':
      return args.map((_, i) => s(i)).join('');
    case 'lower-case':
      need(1);
      return s(0).toLowerCase();
    case 'upper-case':
      need(1);
      return s(0).toUpperCase();
  }
  throw new XPathError(src, `unknown function ${name}()`);
}

/** Parses an XPath once; throws XPathError for anything outside the subset. */
export function compileXPath(expression: string): (context: UiElement) => UiElement[] {
  const tree = new Parser(expression, tokenize(expression)).parse();
  return (context) => {
    let top = context;
    while (top.parent) top = top.parent;
    // '/' is the document node above <hierarchy>, as in the XML the server evaluates.
    const root: UiElement = {
      node: undefined,
      tag: '#document',
      attrs: [],
      parent: undefined,
      children: [top],
      key: '',
      order: -1,
    };
    const v = evaluate(tree, { node: context, pos: 1, size: 1, root }, expression);
    if (!Array.isArray(v)) throw new XPathError(expression, 'the expression does not select elements');
    return v.filter((e) => e.node !== undefined);
  };
}
