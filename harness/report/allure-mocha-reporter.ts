/**
 * The allure-mocha reporter the suite runner hands mocha. It reaches into allure-mocha's protected
 * `runtime` and `currentTest`: an allure-mocha upgrade that renames them breaks the skip reasons
 * here, and run-cli.int.test.ts (the Pixel's skipped theme-store) notices.
 */
import allureMochaModule from 'allure-mocha';
import Mocha from 'mocha';

type AllureMochaReporterClass = (typeof allureMochaModule)['default'];
// TypeScript reads allure-mocha's types as CommonJS (the class under .default); Node's ESM import
// gives the class itself.
const AllureMochaReporter: AllureMochaReporterClass =
  (allureMochaModule as unknown as { default?: AllureMochaReporterClass }).default ??
  (allureMochaModule as unknown as AllureMochaReporterClass);

/** What mocha does not carry to reporters: why a test was skipped, and what a passed test noticed. */
export interface TestNotes {
  /** A skipped test's reason. */
  skipReasons: WeakMap<Mocha.Runnable, string>;
  /** A passed test's status details: its run passed, and its drift (drift: warn) is still news. */
  passNotes: WeakMap<Mocha.Runnable, { message: string; trace: string }>;
}

/**
 * allure-mocha, with a skipped test's reason as its status message (allure-mocha writes "Test
 * skipped" for every skipped test, and mocha has no skip reason) and a passed test's notes as its
 * status details (the Allure categories match a passed run's drift by them). Both are set after
 * allure-mocha handled the test's end state, before it writes the result.
 */
export function allureWithTestNotes(notes: TestNotes): AllureMochaReporterClass {
  return class TestNotesReporter extends AllureMochaReporter {
    constructor(runner: Mocha.Runner, opts: Mocha.MochaOptions) {
      super(runner, opts);
      runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (test: Mocha.Test) => {
        const reason = notes.skipReasons.get(test);
        const current = this.currentTest;
        if (reason === undefined || current === undefined) return;
        this.runtime.updateTest(current, (r) => {
          r.statusDetails = { message: reason };
        });
      });
      runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, (test: Mocha.Test) => {
        const note = notes.passNotes.get(test);
        const current = this.currentTest;
        if (note === undefined || current === undefined) return;
        this.runtime.updateTest(current, (r) => {
          r.statusDetails = { message: note.message, trace: note.trace };
        });
      });
    }
  };
}
