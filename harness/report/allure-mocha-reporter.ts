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

/**
 * allure-mocha, with a skipped test's reason as its status message: allure-mocha writes "Test
 * skipped" for every skipped test, and mocha has no skip reason, so the reason comes from `reasons`
 * and is set after allure-mocha handled the pending test, before it writes the result.
 */
export function allureWithSkipReasons(reasons: WeakMap<Mocha.Runnable, string>): AllureMochaReporterClass {
  return class SkipReasonReporter extends AllureMochaReporter {
    constructor(runner: Mocha.Runner, opts: Mocha.MochaOptions) {
      super(runner, opts);
      runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (test: Mocha.Test) => {
        const reason = reasons.get(test);
        const current = this.currentTest;
        if (reason === undefined || current === undefined) return;
        this.runtime.updateTest(current, (r) => {
          r.statusDetails = { message: reason };
        });
      });
    }
  };
}
