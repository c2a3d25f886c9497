/**
 * A small parser for the shell lines adb clients send to /system/bin/sh: words with single and double
 * quotes and backslashes, $VAR / ${VAR} / $? / $(…), `;` `&` `&&` `||` `|`, redirections (N>file,
 * N>>file, <file, N>&M), `( … )` and `{ …; }`, and the compound commands clients use: while/until,
 * if/then/elif/else/fi and for. Pure: text in, a syntax tree out.
 */

/** One piece of a word; a word's value is its pieces' values joined. */
export type WordPart =
  /** Literal text; `quoted` when it came from quotes (so it is never a keyword or assignment). */
  | { kind: 'lit'; text: string; quoted: boolean }
  /** A parameter: $NAME, ${NAME}, $?, $$, $#, $0…$9; `fallback` for ${NAME:-word}. */
  | { kind: 'var'; name: string; quoted: boolean; fallback?: string }
  /** Command substitution $( … ). */
  | { kind: 'subst'; list: List; quoted: boolean };

/** A word: pieces joined without spaces. */
export type Word = WordPart[];

/** A redirection. `>&` duplicates fd `target` (a number word); others open a file. */
export interface Redirect {
  /** The file descriptor being redirected. */
  fd: number;
  /** Operation. */
  op: '>' | '>>' | '<' | '>&' | '<&';
  /** File name, or the fd number for dups. */
  target: Word;
}

/** NAME=value before a command. */
export interface Assignment {
  /** Variable name. */
  name: string;
  /** Value. */
  value: Word;
}

/** A command with words, assignments and redirections. */
export interface SimpleCommand {
  kind: 'simple';
  /** Variable assignments before the command words. */
  assigns: Assignment[];
  /** The command name and its arguments. */
  words: Word[];
  /** Redirections, in order. */
  redirects: Redirect[];
}

/** while/until COND; do BODY; done. */
export interface LoopCommand {
  kind: 'while' | 'until';
  cond: List;
  body: List;
  redirects: Redirect[];
}

/** if COND; then BODY; [elif …] [else …] fi. */
export interface IfCommand {
  kind: 'if';
  clauses: { cond: List; body: List }[];
  elseBody?: List;
  redirects: Redirect[];
}

/** for NAME in WORDS; do BODY; done. */
export interface ForCommand {
  kind: 'for';
  name: string;
  items: Word[];
  body: List;
  redirects: Redirect[];
}

/** ( LIST ) or { LIST; }. */
export interface GroupCommand {
  kind: 'group';
  body: List;
  /** Runs in a subshell (its variable changes do not leak). */
  subshell: boolean;
  redirects: Redirect[];
}

export type Command = SimpleCommand | LoopCommand | IfCommand | ForCommand | GroupCommand;

/** Commands joined by `|`. */
export interface Pipeline {
  /** Started with `!`. */
  negate: boolean;
  commands: Command[];
}

/** Pipelines joined by && and ||. */
export interface AndOr {
  first: Pipeline;
  rest: { op: '&&' | '||'; pipeline: Pipeline }[];
  /** Ended with `&`. */
  background: boolean;
}

/** A command list (`;`, `&` and newlines). */
export type List = AndOr[];

/** The line cannot be parsed; `message` reads like sh's ("syntax error: unexpected 'fi'"). */
export class ShellSyntaxError extends Error {
  override name = 'ShellSyntaxError';
}

type Token =
  | { t: 'word'; word: Word; lit: string | undefined }
  | { t: 'op'; op: string }
  | { t: 'redir'; fd: number | undefined; op: Redirect['op'] }
  | { t: 'eof' };

const OPS = ['&&', '||', ';;', ';', '&', '|', '(', ')', '\n'];
const META = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);

class Lexer {
  pos = 0;
  constructor(readonly src: string) {}

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
      return { kind: 'subst', list: parseShell(inner), quoted };
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

const RESERVED = new Set(['then', 'else', 'elif', 'fi', 'do', 'done', '}', 'in']);

class Parser {
  private tok: Token;
  constructor(private readonly lex: Lexer) {
    this.tok = lex.next();
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lex.next();
    return t;
  }

  private isOp(op: string): boolean {
    return this.tok.t === 'op' && this.tok.op === op;
  }

  private isKeyword(k: string): boolean {
    return this.tok.t === 'word' && this.tok.lit === k;
  }

  private describe(): string {
    const t = this.tok;
    if (t.t === 'eof') return 'end of file';
    if (t.t === 'op') return t.op === '\n' ? 'newline' : t.op;
    if (t.t === 'redir') return t.op;
    return t.lit ?? 'word';
  }

  private fail(): never {
    throw new ShellSyntaxError(`syntax error: unexpected '${this.describe()}'`);
  }

  private expectKeyword(k: string): void {
    if (!this.isKeyword(k)) this.fail();
    this.advance();
  }

  private skipNewlines(): void {
    while (this.isOp('\n')) this.advance();
  }

  /** A list up to EOF or one of the stop keywords / ')'. */
  list(stops: readonly string[]): List {
    const out: List = [];
    for (;;) {
      this.skipNewlines();
      while (this.isOp(';')) {
        if (out.length === 0) this.fail();
        this.advance();
        this.skipNewlines();
      }
      if (this.atListEnd(stops)) return out;
      const ao = this.andOr();
      out.push(ao);
      if (this.isOp('&')) {
        this.advance();
        ao.background = true;
      } else if (this.isOp(';') || this.isOp('\n')) {
        this.advance();
      } else if (!this.atListEnd(stops)) {
        this.fail();
      }
    }
  }

  private atListEnd(stops: readonly string[]): boolean {
    return this.tok.t === 'eof' || this.isOp(')') || stops.some((k) => this.isKeyword(k));
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: AndOr['rest'] = [];
    while (this.isOp('&&') || this.isOp('||')) {
      const op = (this.advance() as { op: '&&' | '||' }).op;
      this.skipNewlines();
      rest.push({ op, pipeline: this.pipeline() });
    }
    return { first, rest, background: false };
  }

  private pipeline(): Pipeline {
    let negate = false;
    if (this.isKeyword('!')) {
      negate = true;
      this.advance();
    }
    const commands = [this.command()];
    while (this.isOp('|')) {
      this.advance();
      this.skipNewlines();
      commands.push(this.command());
    }
    return { negate, commands };
  }

  private command(): Command {
    if (this.isKeyword('while') || this.isKeyword('until')) {
      const kind = (this.advance() as { lit: 'while' | 'until' }).lit;
      const cond = this.list(['do']);
      this.expectKeyword('do');
      const body = this.list(['done']);
      this.expectKeyword('done');
      return { kind, cond, body, redirects: this.redirects() };
    }
    if (this.isKeyword('if')) {
      this.advance();
      const clauses: IfCommand['clauses'] = [];
      let elseBody: List | undefined;
      for (;;) {
        const cond = this.list(['then']);
        this.expectKeyword('then');
        const body = this.list(['elif', 'else', 'fi']);
        clauses.push({ cond, body });
        if (this.isKeyword('elif')) {
          this.advance();
          continue;
        }
        if (this.isKeyword('else')) {
          this.advance();
          elseBody = this.list(['fi']);
        }
        this.expectKeyword('fi');
        break;
      }
      return { kind: 'if', clauses, ...(elseBody ? { elseBody } : {}), redirects: this.redirects() };
    }
    if (this.isKeyword('for')) {
      this.advance();
      const nameTok = this.advance();
      if (nameTok.t !== 'word' || !nameTok.lit || !/^[A-Za-z_]\w*$/.test(nameTok.lit)) this.fail();
      const items: Word[] = [];
      this.skipNewlines();
      if (this.isKeyword('in')) {
        this.advance();
        while (this.tok.t === 'word') items.push((this.advance() as { word: Word }).word);
      }
      if (this.isOp(';') || this.isOp('\n')) this.advance();
      this.skipNewlines();
      this.expectKeyword('do');
      const body = this.list(['done']);
      this.expectKeyword('done');
      return { kind: 'for', name: nameTok.lit, items, body, redirects: this.redirects() };
    }
    if (this.isOp('(')) {
      this.advance();
      const body = this.list([]);
      if (!this.isOp(')')) this.fail();
      this.advance();
      return { kind: 'group', body, subshell: true, redirects: this.redirects() };
    }
    if (this.isKeyword('{')) {
      this.advance();
      const body = this.list(['}']);
      this.expectKeyword('}');
      return { kind: 'group', body, subshell: false, redirects: this.redirects() };
    }
    return this.simple();
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    while (this.tok.t === 'redir') out.push(this.redirect());
    return out;
  }

  private redirect(): Redirect {
    const r = this.advance() as { fd: number | undefined; op: Redirect['op'] };
    const target = this.advance();
    if (target.t !== 'word') this.fail();
    const fd = r.fd ?? (r.op === '<' || r.op === '<&' ? 0 : 1);
    return { fd, op: r.op, target: target.word };
  }

  private simple(): SimpleCommand {
    const cmd: SimpleCommand = { kind: 'simple', assigns: [], words: [], redirects: [] };
    for (;;) {
      const t = this.tok;
      if (t.t === 'redir') {
        cmd.redirects.push(this.redirect());
      } else if (t.t === 'word') {
        if (cmd.words.length === 0 && t.lit !== undefined && RESERVED.has(t.lit)) break;
        const first = t.word[0];
        const m =
          cmd.words.length === 0 && first?.kind === 'lit' && !first.quoted
            ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text)
            : null;
        if (m) {
          const rest = first!.kind === 'lit' ? first!.text.slice(m[0].length) : '';
          const value: Word = [
            ...(rest ? [{ kind: 'lit' as const, text: rest, quoted: false }] : []),
            ...t.word.slice(1),
          ];
          cmd.assigns.push({ name: m[1]!, value });
        } else {
          cmd.words.push(t.word);
        }
        this.advance();
      } else break;
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirects.length === 0) this.fail();
    return cmd;
  }

  atEnd(): boolean {
    return this.tok.t === 'eof';
  }

  rest(): string {
    return this.describe();
  }
}

/** Parses one shell line (or script). Throws ShellSyntaxError. */
export function parseShell(src: string): List {
  const p = new Parser(new Lexer(src));
  const list = p.list([]);
  if (!p.atEnd()) throw new ShellSyntaxError(`syntax error: unexpected '${p.rest()}'`);
  return list;
}

/** Quotes a string for sh so it reads back as one word. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
