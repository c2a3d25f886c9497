/**
 * A small parser for the shell lines adb clients send to /system/bin/sh: words with single and double
 * quotes and backslashes, $VAR / ${VAR} / $? / $(…), `;` `&` `&&` `||` `|`, redirections (N>file,
 * N>>file, <file, N>&M), `( … )` and `{ …; }`, and the compound commands clients use: while/until,
 * if/then/elif/else/fi and for. Pure: text in, a syntax tree out.
 */

import { Lexer, type Token } from './shell-lexer.js';
import {
  type AndOr,
  type Command,
  type IfCommand,
  type List,
  type Pipeline,
  type Redirect,
  ShellSyntaxError,
  type SimpleCommand,
  type Word,
} from './shell-syntax.js';

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
  const p = new Parser(new Lexer(src, parseShell));
  const list = p.list([]);
  if (!p.atEnd()) throw new ShellSyntaxError(`syntax error: unexpected '${p.rest()}'`);
  return list;
}

/** Quotes a string for sh so it reads back as one word. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
