/**
 * Charts as static SVG through vega-lite and vega's headless view: no browser, no canvas, no
 * script in the output. Every chart's data is inline; the loader refuses to load anything, so no
 * spec can reach a file or the network. Labels from the wire go through chartText first: vega
 * escapes XML's specials, and control characters (which XML does not allow at all) are shown as
 * escapes.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { terminalSafeClipped } from '../format/terminal-text.js';

/** A string for a chart: control characters shown as escapes, clipped to `max` characters. */
export function chartText(text: string, max = 200): string {
  return terminalSafeClipped(text, max).replace(/[\ufffe\uffff]/g, '\ufffd');
}

function refusingLoader(): ReturnType<typeof vega.loader> {
  const l = vega.loader();
  const refuse = async (uri: string): Promise<never> => {
    throw new Error(`a chart loads nothing from outside (asked for ${JSON.stringify(uri)})`);
  };
  l.load = refuse;
  l.sanitize = refuse;
  return l;
}

/** A vega logger that keeps warnings and errors in `into`. */
function collecting(into: string[]) {
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => {
      into.push(m.join(' '));
      return logger;
    },
    warn: (...m: unknown[]) => {
      into.push(m.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** Renders a vega-lite spec to an SVG document (with its XML declaration). */
export async function vegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  // A spec that vega-lite has to patch up is a bug here: its warnings fail the chart.
  const warnings: string[] = [];
  const compiled = compile(spec, { logger: collecting(warnings) as never }).spec;
  if (warnings.length) throw new Error(`chart spec: ${warnings.join('; ')}`);
  const problems: string[] = [];
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    loader: refusingLoader(),
    // Vega's errors (data it could not load) fail the chart; its warnings are kept with them.
    logger: collecting(problems) as unknown as vega.LoggerInterface,
  });
  try {
    const svg = await view.toSVG();
    if (problems.length) throw new Error(`chart: ${problems.join('; ')}`);
    return `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`;
  } finally {
    view.finalize();
  }
}

/**
 * Labels for a chart's rows or columns: each text through chartText (at most `max` characters), and
 * two texts that come out alike told apart by " (2)", " (3)" … (a chart would merge their rows).
 */
export function uniqueChartLabels(texts: readonly string[], max: number): string[] {
  const used = new Set<string>();
  return texts.map((t) => {
    let l = chartText(t, max);
    for (let i = 2; used.has(l); i++) l = `${chartText(t, max - 4)} (${i})`;
    used.add(l);
    return l;
  });
}
