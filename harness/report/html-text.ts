/**
 * Putting untrusted text (host names, URLs, rule text, anything read off the wire or off a phone) into
 * HTML. Every character that can open markup or end an attribute is written as an entity, so a host
 * named `<img src=x onerror=alert(1)>.example` shows as those characters and never becomes an element.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** The text, safe as HTML element content and inside a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (ch) => ENTITIES[ch]!);
}
