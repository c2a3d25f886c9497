/**
 * A group of tests that needs something this machine may lack (root, tshark, Chromium). node:test
 * counts a skipped describe as no test at all, so a green run without root would not say how much it
 * left out. `gate(why)` gives describe/it/test and hooks for such a group: when `why` is a reason, each
 * test is skipped on its own (counted one by one, and under CI each skip fails the run) and the
 * hooks, which set up what is missing, do not run.
 */
import * as nodeTest from 'node:test';

type TestFn = nodeTest.TestFn;
type TestOptions = nodeTest.TestOptions;
type HookFn = nodeTest.HookFn;
type HookOptions = nodeTest.HookOptions;

/** The test functions for a group that runs only when `why` is false (or undefined, or ''). */
export function gate(why: string | false | undefined) {
  const reason = why || undefined;
  const one =
    (register: typeof nodeTest.it) =>
    (name: string, optsOrFn?: TestOptions | TestFn, maybeFn?: TestFn): Promise<void> => {
      const fn = typeof optsOrFn === 'function' ? optsOrFn : maybeFn;
      const opts = typeof optsOrFn === 'object' ? optsOrFn : {};
      return register(name, reason ? { ...opts, skip: reason } : opts, fn);
    };
  const hook =
    (register: (fn: HookFn, opts?: HookOptions) => void) =>
    (fn: HookFn, opts?: HookOptions): void =>
      register(reason ? () => {} : fn, opts);
  return {
    /** Why the group does not run here, or undefined when it does. */
    reason,
    describe: (name: string, fn: () => void): Promise<void> => nodeTest.describe(name, fn),
    it: one(nodeTest.it),
    test: one(nodeTest.test),
    before: hook(nodeTest.before),
    after: hook(nodeTest.after),
    beforeEach: hook(nodeTest.beforeEach),
    afterEach: hook(nodeTest.afterEach),
  };
}
