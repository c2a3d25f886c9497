/**
 * The UiAutomator2 server's view of the screen: the phone's view tree (screen-model's UiNode) turned
 * into elements with the attributes the real server reports, in its order, and the page source XML
 * built from them (UIA2.md §4). Finders, XPath and the element cache all read this one snapshot.
 */
import type { UiNode } from '../phone/ui-node.js';

/** One element of a snapshot. */
export interface UiElement {
  /** The phone's view behind it (undefined for the hierarchy root). */
  node: UiNode | undefined;
  /** Tag in the XML: the class name ("hierarchy" for the root). */
  tag: string;
  /** Attributes in the server's order; absent ones are left out. */
  attrs: [name: string, value: string][];
  /** Parent element (undefined for the root). */
  parent: UiElement | undefined;
  /** Children in screen order. */
  children: UiElement[];
  /** Stable identity across snapshots: window, path of sibling indexes, class, package, id, description. */
  key: string;
  /** Position in document order (0 for the root). */
  order: number;
}

/** Classes a user types into. */
const EDITABLE =
  /(?:^|\.)(?:EditText|AutoCompleteTextView|MultiAutoCompleteTextView|SearchView\$SearchAutoComplete)$/;

/** Whether a view takes text. */
export function isEditable(node: UiNode | undefined): boolean {
  return !!node && EDITABLE.test(node.cls);
}

/** What a snapshot needs besides the tree. */
export interface SnapshotContext {
  /** Names the window the tree shows (the foreground activity, "keyguard" …); part of every element's key. */
  window: string;
  /** Display rotation 0–3. */
  rotation: number;
  /** Display size. */
  width: number;
  height: number;
  /** Text typed into editable elements, by element key (the screen model has no text state of its own). */
  typed: ReadonlyMap<string, string>;
}

/** Stable small number for a window name, as Android's window ids are. */
function windowId(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 2 + (h % 997);
}

function tagOf(cls: string): string {
  const t = cls
    .replace(/[$@#&]/g, '.')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.|\.$/g, '');
  return t === '' ? 'android.view.View' : t;
}

/** The element tree of a screen (a root with nothing under it when the display is off). */
export function snapshot(tree: UiNode | undefined, ctx: SnapshotContext): UiElement {
  let order = 0;
  const root: UiElement = {
    node: undefined,
    tag: 'hierarchy',
    attrs: [
      ['index', '0'],
      ['class', 'hierarchy'],
      ['rotation', String(ctx.rotation)],
      ['width', String(ctx.width)],
      ['height', String(ctx.height)],
    ],
    parent: undefined,
    children: [],
    key: `${ctx.window}|root`,
    order: order++,
  };
  const walk = (n: UiNode, index: number, path: string, parent: UiElement, drawing: number) => {
    // System bars live in their own window: they stay the same elements when the app changes, so
    // their path starts at the bar, not at the app's root.
    const bar = n.pkg === 'com.android.systemui' && ctx.window !== 'keyguard';
    const window = bar ? 'systemui' : ctx.window;
    if (bar && parent.node?.pkg !== 'com.android.systemui') path = n.resourceId ?? n.cls;
    const key = `${window}|${path}|${n.cls}|${n.pkg}|${n.resourceId ?? ''}|${n.desc ?? ''}`;
    const editable = isEditable(n);
    const text = editable ? (ctx.typed.get(key) ?? n.text) : n.text;
    const [l, t, r, b] = n.bounds.map((v) => Math.round(v)) as [number, number, number, number];
    const attrs: [string, string][] = [
      ['index', String(index)],
      ['package', n.pkg],
      ['class', n.cls],
      ['text', text],
    ];
    if (n.desc !== undefined) attrs.push(['content-desc', n.desc]);
    if (n.resourceId !== undefined) attrs.push(['resource-id', n.resourceId]);
    const focusable = n.clickable || editable;
    attrs.push(
      ['checkable', String(n.checkable ?? false)],
      ['checked', String(n.checked ?? false)],
      ['clickable', String(n.clickable || editable)],
      ['enabled', String(n.enabled ?? true)],
      ['focusable', String(focusable)],
      ['focused', 'false'],
      ['long-clickable', String(editable)],
      ['password', 'false'],
      ['scrollable', String(n.scrollable ?? false)],
    );
    if (editable)
      attrs.push(['selection-start', String(text.length)], ['selection-end', String(text.length)]);
    attrs.push(['selected', 'false'], ['bounds', `[${l},${t}][${r},${b}]`], ['displayed', 'true']);
    attrs.push(['a11y-important', 'true'], ['screen-reader-focusable', 'false']);
    if (editable) attrs.push(['input-type', '1']);
    attrs.push(
      ['drawing-order', String(drawing)],
      ['showing-hint', 'false'],
      ['text-entry-key', 'false'],
      ['dismissable', 'false'],
      ['a11y-focused', 'false'],
      ['heading', 'false'],
      ['live-region', '0'],
      ['context-clickable', 'false'],
      ['content-invalid', 'false'],
      ['window-id', String(windowId(window))],
    );
    const el: UiElement = { node: n, tag: tagOf(n.cls), attrs, parent, children: [], key, order: order++ };
    parent.children.push(el);
    n.children.forEach((c, i) => {
      walk(c, i, `${path}.${i}`, el, i + 1);
    });
  };
  if (tree) walk(tree, 0, '0', root, 0);
  return root;
}

/** An attribute's value, or undefined when the element does not have it. */
export function attr(el: UiElement, name: string): string | undefined {
  for (const [k, v] of el.attrs) if (k === name) return v;
  return undefined;
}

/** Every element under (and, with self, including) `el`, in document order. */
export function descendants(el: UiElement, self = false): UiElement[] {
  const out: UiElement[] = self ? [el] : [];
  const walk = (e: UiElement) => {
    for (const c of e.children) {
      out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

// Characters XML 1.0 cannot carry at all; the real serializer writes '?' for them.
const ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/g;

function escapeAttr(s: string): string {
  return s.replace(ILLEGAL, '?').replace(
    /[&<>"\n\r\t]/g,
    (ch) =>
      ({
        '&': '&amp;',
        '<': '&lt;',
        '>': '&gt;',
        '"': '&quot;',
        '\n': '&#10;',
        '\r': '&#13;',
        '\t': '&#9;',
      })[ch]!,
  );
}

/** The page source as the server's GET /source returns it: XML, 2-space indent, class names as tags. */
export function pageSourceXml(root: UiElement): string {
  const out: string[] = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"];
  const walk = (el: UiElement, depth: number) => {
    const pad = '  '.repeat(depth);
    const attrs = el.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
    if (el.children.length === 0) {
      out.push(`${pad}<${el.tag}${attrs} />`);
      return;
    }
    out.push(`${pad}<${el.tag}${attrs}>`);
    for (const c of el.children) walk(c, depth + 1);
    out.push(`${pad}</${el.tag}>`);
  };
  walk(root, 0);
  return `${out.join('\n')}\n`;
}
