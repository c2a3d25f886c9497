/** The shell language's tree: words and their parts, redirects, commands, pipelines and lists, as shell-parse.ts builds it. */

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
