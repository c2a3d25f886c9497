/** The shell's words and operators: the lexer the parser (shell-parse.ts) reads tokens from. */
import { type List, type Redirect, ShellSyntaxError, type Word, type WordPart } from './shell-syntax.js';

export type Token =
  | { t: 'word'; word: Word; lit: string | undefined }
  | { t: 'op'; op: string }
  | { t: 'redir'; fd: number | undefined; op: Redirect['op'] }
  | { t: 'eof' };

export const OPS = ['&&', '||', ';;', ';', '&', '|', '(', ')', '\n'];

export const META = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);

export class Lexer {
  pos = 0;
  constructor(
    readonly src: string,
    /** Parses the text of a command substitution, $(…), into its own list (the parser, passed in). */
    private readonly parseInner: (src: string) => List,
  ) {}

  next(): Token {
    const s = this.src;
    for (;;) {
      while (this.pos < s.length && (s[this.pos] === ' ' || s[this.pos] === '\t')) this.pos++;
      if (s[this.pos] === '\\' && s[this.pos + 1] === '\n') {
        this.pos += 2;
        continue;
      }
      if (s[this.pos] === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
        continue;
      }
      break;
    }
    if (this.pos >= s.length) return { t: 'eof' };
    const c = s[this.pos]!;
    if (c === '>' || c === '<') return this.redirect(undefined);
    for (const op of OPS) {
      if (s.startsWith(op, this.pos)) {
        this.pos += op.length;
        return { t: 'op', op };
      }
    }
    return this.word();
  }

  private redirect(fd: number | undefined): Token {
    const s = this.src;
    const c = s[this.pos]!;
    this.pos++;
    if (c === '>') {
      if (s[this.pos] === '>') {
        this.pos++;
        return { t: 'redir', fd, op: '>>' };
      }
      if (s[this.pos] === '&') {
        this.pos++;
        return { t: 'redir', fd, op: '>&' };
      }
      if (s[this.pos] === '|') this.pos++;
      return { t: 'redir', fd, op: '>' };
    }
    if (s[this.pos] === '&') {
      this.pos++;
      return { t: 'redir', fd, op: '<&' };
    }
    return { t: 'redir', fd, op: '<' };
  }

  private word(): Token {
    const s = this.src;
    const parts: Word = [];
    let lit = '';
    let allPlain = true;
    const pushLit = (text: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last && last.kind === 'lit' && last.quoted === quoted) last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (META.has(c)) {
        if ((c === '>' || c === '<') && allPlain && /^\d$/.test(lit) && parts.length === 1) {
          return this.redirect(Number(lit));
        }
        break;
      }
      if (c === "'") {
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError('syntax error: unterminated quoted string');
        pushLit(s.slice(this.pos + 1, end), true);
        this.pos = end + 1;
        allPlain = false;
      } else if (c === '"') {
        this.pos++;
        this.doubleQuoted(parts, pushLit);
        allPlain = false;
      } else if (c === '\\') {
        const n = s[this.pos + 1];
        this.pos += 2;
        if (n === undefined) break;
        if (n !== '\n') pushLit(n, true);
        allPlain = false;
      } else if (c === '$') {
        const part = this.dollar(false);
        if (part) {
          parts.push(part);
          allPlain = false;
        } else pushLit('$', false);
      } else {
        pushLit(c, false);
        lit += c;
        this.pos++;
      }
    }
    return { t: 'word', word: parts, lit: allPlain ? lit : undefined };
  }

  private doubleQuoted(parts: Word, pushLit: (text: string, quoted: boolean) => void): void {
    const s = this.src;
    for (;;) {
      if (this.pos >= s.length) throw new ShellSyntaxError('syntax error: unterminated quoted string');
      const c = s[this.pos]!;
      if (c === '"') {
        this.pos++;
        // An empty "" still makes a word.
        if (parts.length === 0) pushLit('', true);
        return;
      }
      if (c === '\\') {
        const n = s[this.pos + 1] ?? '';
        if ('$`"\\\n'.includes(n) && n !== '') {
          if (n !== '\n') pushLit(n, true);
          this.pos += 2;
        } else {
          pushLit('\\', true);
          this.pos++;
        }
      } else if (c === '$') {
        const part = this.dollar(true);
        if (part) parts.push(part);
        else pushLit('$', true);
      } else {
        pushLit(c, true);
        this.pos++;
      }
    }
  }

  /** Reads a $-expansion at pos; undefined (pos unchanged past '$') when '$' is literal. */
  private dollar(quoted: boolean): WordPart | undefined {
    const s = this.src;
    this.pos++;
    const c = s[this.pos];
    if (c === '(') {
      let depth = 1;
      let i = this.pos + 1;
      let q: string | undefined;
      for (; i < s.length && depth > 0; i++) {
        const ch = s[i]!;
        if (q) {
          if (ch === q) q = undefined;
          else if (ch === '\\' && q === '"') i++;
        } else if (ch === "'" || ch === '"') q = ch;
        else if (ch === '\\') i++;
        else if (ch === '(') depth++;
        else if (ch === ')') depth--;
      }
      if (depth > 0) throw new ShellSyntaxError("syntax error: unmatched '('");
      const inner = s.slice(this.pos + 1, i - 1);
      this.pos = i;
      return { kind: 'subst', list: this.parseInner(inner), quoted };
    }
    if (c === '{') {
      const end = s.indexOf('}', this.pos);
      if (end < 0) throw new ShellSyntaxError('syntax error: bad substitution');
      const body = s.slice(this.pos + 1, end);
      this.pos = end + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])(?::-(.*))?$/s.exec(body);
      if (!m) throw new ShellSyntaxError(`\${${body}}: bad substitution`);
      return { kind: 'var', name: m[1]!, quoted, ...(m[2] !== undefined ? { fallback: m[2] } : {}) };
    }
    if (c !== undefined && /[?$#0-9]/.test(c)) {
      this.pos++;
      return { kind: 'var', name: c, quoted };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return { kind: 'var', name: m[0], quoted };
  }
}
