import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseShell, shellQuote } from './shell-parse.js';
import { ShellSyntaxError, type SimpleCommand, type Word } from './shell-syntax.js';

const text = (w: Word) =>
  w.map((p) => (p.kind === 'lit' ? p.text : p.kind === 'var' ? `$${p.name}` : '$(…)')).join('');
const simple = (src: string) => parseShell(src)[0]!.first.commands[0] as SimpleCommand;

test('quotes and backslashes make single words', () => {
  const c = simple(`am start -n 'com.a/.B' -e "key" "two words" esc\\ aped 'it'\\''s'`);
  assert.deepEqual(c.words.map(text), [
    'am',
    'start',
    '-n',
    'com.a/.B',
    '-e',
    'key',
    'two words',
    'esc aped',
    "it's",
  ]);
});

test('operators split commands: ; && || | and &', () => {
  const list = parseShell('a; b && c || d | e & f');
  assert.equal(list.length, 3);
  assert.equal(list[1]!.rest.length, 2);
  assert.deepEqual(
    list[1]!.rest.map((r) => r.op),
    ['&&', '||'],
  );
  assert.equal(list[1]!.rest[1]!.pipeline.commands.length, 2);
  assert.equal(list[1]!.background, true);
});

test('redirections: 2>/dev/null, 2>&1, > file, >> file, < file', () => {
  const c = simple('logcat -B *:I 2>/dev/null >out.bin 2>&1 >>log <in');
  assert.deepEqual(c.words.map(text), ['logcat', '-B', '*:I']);
  assert.deepEqual(
    c.redirects.map((r) => [r.fd, r.op, text(r.target)]),
    [
      [2, '>', '/dev/null'],
      [1, '>', 'out.bin'],
      [2, '>&', '1'],
      [1, '>>', 'log'],
      [0, '<', 'in'],
    ],
  );
});

test("adbkit's boot wait parses as a while loop", () => {
  const list = parseShell('while getprop sys.boot_completed 2>/dev/null; do sleep 1; done');
  const loop = list[0]!.first.commands[0]!;
  assert.equal(loop.kind, 'while');
  if (loop.kind !== 'while') return;
  assert.equal(loop.cond.length, 1);
  assert.equal(loop.body.length, 1);
});

test('assignments, exports and exec as Appium sends them', () => {
  const list = parseShell(`export ANDROID_LOG_TAGS="''"; exec logcat '-v' 'threadtime'`);
  assert.deepEqual((list[0]!.first.commands[0] as SimpleCommand).words.map(text), [
    'export',
    "ANDROID_LOG_TAGS=''",
  ]);
  const c = simple('FOO=bar BAZ="a b" cmd x');
  assert.deepEqual(
    c.assigns.map((a) => [a.name, text(a.value)]),
    [
      ['FOO', 'bar'],
      ['BAZ', 'a b'],
    ],
  );
  assert.deepEqual(c.words.map(text), ['cmd', 'x']);
});

test('test brackets, if/elif/else and for', () => {
  const ifc = parseShell("if [ -e '/x' ]; then echo a; elif true; then echo b; else echo c; fi")[0]!.first
    .commands[0]!;
  assert.equal(ifc.kind, 'if');
  if (ifc.kind === 'if') {
    assert.equal(ifc.clauses.length, 2);
    assert.ok(ifc.elseBody);
  }
  const f = parseShell('for p in a b c; do echo $p; done')[0]!.first.commands[0]!;
  assert.equal(f.kind, 'for');
  if (f.kind === 'for') assert.deepEqual(f.items.map(text), ['a', 'b', 'c']);
});

test('$VAR, braced vars, $? and $(…) are kept as expansions; single quotes keep them literal', () => {
  const c = simple(`echo $HOME "\${X}y" $? '$NOT' $(getprop a)`);
  assert.deepEqual(
    c.words.slice(1).map((w) => w.map((p) => p.kind)),
    [['var'], ['var', 'lit'], ['var'], ['lit'], ['subst']],
  );
});

test('syntax errors read like sh', () => {
  assert.throws(() => parseShell('echo "open'), ShellSyntaxError);
  assert.throws(() => parseShell('fi'), /unexpected 'fi'/);
  assert.throws(() => parseShell('a && '), /unexpected 'end of file'/);
  assert.throws(() => parseShell('; ls'), /unexpected/);
});

test('shellQuote round-trips through the parser', () => {
  for (const s of ['plain', 'two words', "it's", '', '$HOME', 'a"b']) {
    assert.deepEqual(
      simple(`echo ${shellQuote(s)}`)
        .words.slice(1)
        .map(text),
      [s],
    );
  }
});
