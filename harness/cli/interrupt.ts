/** Ctrl-C and SIGTERM for long commands: a first one stops cleanly, a second one quits at once. */
import { setMaxListeners } from 'node:events';
import { simLabsUp } from '../lab/sim-lab.js';

/** Exit status of `phonehome run` when Ctrl-C or SIGTERM stopped it. */
export const EXIT_INTERRUPTED = 130;

/** Ctrl-C and SIGTERM stop the runs cleanly (captures flushed, results written, simulated phones put away); a second Ctrl-C exits at once. */
export function interruptible(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  // Every phone's operations listen on this one signal.
  setMaxListeners(1000, ac.signal);
  let count = 0;
  const on = (sig: NodeJS.Signals) => {
    count += 1;
    if (count > 1) {
      const left = [...simLabsUp].map((d) => `phonehome sim down --state-dir ${d}`);
      process.stderr.write(
        `phonehome: quitting at once${left.length ? `; simulated phones are still up: ${left.join('; ')}` : ''}\n`,
      );
      process.exit(EXIT_INTERRUPTED);
    }
    process.stderr.write(
      'phonehome: stopping: captures are flushed, results written and simulated phones put away (Ctrl-C again to quit at once)\n',
    );
    // The runs' records name what stopped them.
    ac.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    done: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
