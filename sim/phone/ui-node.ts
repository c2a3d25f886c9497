/** A screen as the simulated phone draws it: a tree of views with bounds, colours and what a tap does. */
import { createHash } from 'node:crypto';
import type { ConsentToggle } from './profile.js';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** One view on screen. */
export interface UiNode {
  /** Android widget class. */
  cls: string;
  /** Package that owns the view. */
  pkg: string;
  /** Text shown ("" for none). */
  text: string;
  /** Content description. */
  desc?: string;
  /** Resource id ("pkg:id/name"). */
  resourceId?: string;
  /** [left, top, right, bottom] in pixels. */
  bounds: readonly [number, number, number, number];
  /** Reacts to taps. */
  clickable: boolean;
  /** A switch or check box. */
  checkable?: boolean;
  /** Its state, when checkable. */
  checked?: boolean;
  /** A scrolling list (RecyclerView, ListView, ScrollView). */
  scrollable?: boolean;
  /** False for a greyed-out view that ignores taps (enabled when absent). */
  enabled?: boolean;
  /** Fill colour when drawn (transparent when absent). */
  fill?: Rgb;
  /** What a tap does: a named action the input command performs. */
  onTap?: ScreenAction;
  /** Child views. */
  children: UiNode[];
}

/** Actions a tap can trigger. */
export type ScreenAction =
  | { kind: 'launch'; component: string }
  | { kind: 'unlock' }
  | { kind: 'pcapdroid-consent'; allow: boolean }
  | { kind: 'back' }
  /** Flips a consent switch on the Settings screen. */
  | { kind: 'toggle'; consent: ConsentToggle }
  /** Signs the vendor account in (or out). */
  | { kind: 'account' }
  /** Submits a sign-in form: the typed account name and password, by their fields' resource-ids. */
  | { kind: 'sign-in'; accountField: string; passwordField: string; opens: string }
  /** Signs the vendor account out. */
  | { kind: 'sign-out'; opens: string }
  /** "Back up now". */
  | { kind: 'backup-now' }
  /** The setup wizard's last page: setup done (device_provisioned 1), the launcher shows. */
  | { kind: 'finish-setup' }
  /** Saves a contact from the typed name and number. */
  | { kind: 'save-contact'; nameField: string; numberField: string; opens: string }
  /** Opens a contact by its index. */
  | { kind: 'open-contact'; index: number; opens: string }
  /** Deletes the open contact. */
  | { kind: 'delete-contact'; opens: string }
  /** Sends an SMS to the typed recipient with the typed text. */
  | { kind: 'send-sms'; toField: string; bodyField: string; opens: string };

/** A colour derived from a package name, so every app looks different but stable. */
export function appColour(pkg: string): Rgb {
  const h = createHash('md5').update(pkg).digest();
  return [64 + (h[0]! % 160), 64 + (h[1]! % 160), 64 + (h[2]! % 160)];
}

export const WHITE: Rgb = [250, 250, 250];

export const DARK: Rgb = [24, 24, 28];

export function node(partial: Partial<UiNode> & Pick<UiNode, 'cls' | 'pkg' | 'bounds'>): UiNode {
  return { text: '', clickable: false, children: [], ...partial };
}

/** The deepest clickable node under a point (what a tap hits). */
export function nodeAt(tree: UiNode | undefined, x: number, y: number): UiNode | undefined {
  if (!tree) return undefined;
  const [l, t, r, b] = tree.bounds;
  if (x < l || x >= r || y < t || y >= b) return undefined;
  for (let i = tree.children.length - 1; i >= 0; i--) {
    const hit = nodeAt(tree.children[i], x, y);
    if (hit) return hit;
  }
  return tree.clickable ? tree : undefined;
}

export function xmlEscape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!,
  );
}

/** The `uiautomator dump` XML (one line, <node> elements) of a view tree. */
export function uiautomatorXml(tree: UiNode): string {
  const out: string[] = [
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">",
  ];
  const walk = (n: UiNode, index: number) => {
    const [l, t, r, b] = n.bounds;
    out.push(
      `<node index="${index}" text="${xmlEscape(n.text)}" resource-id="${xmlEscape(n.resourceId ?? '')}" class="${n.cls}" package="${n.pkg}" content-desc="${xmlEscape(n.desc ?? '')}" checkable="${n.checkable ?? false}" checked="${n.checked ?? false}" clickable="${n.clickable}" enabled="${n.enabled ?? true}" focusable="${n.clickable}" focused="false" scrollable="${n.scrollable ?? false}" long-clickable="false" password="false" selected="false" bounds="[${l},${t}][${r},${b}]"`,
    );
    if (n.children.length === 0) out.push(' />');
    else {
      out.push('>');
      n.children.forEach((c, i) => {
        walk(c, i);
      });
      out.push('</node>');
    }
  };
  walk(tree, 0);
  out.push('</hierarchy>');
  return out.join('');
}
