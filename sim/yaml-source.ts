/**
 * A simulated device's YAML file (profile, screens, traffic) read with positions, so that a bad file is
 * refused at file:line:column with the path of the field, e.g. `x.yaml:12:5: packages[2].uid: …`.
 */
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { SimConfigError } from './errors.js';

/** A step of a path into the document: a mapping key or a sequence index. */
export type PathKey = string | number;

/** "packages[2].name" for ['packages', 2, 'name']. */
export function pathText(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s;
}

export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  /** Parses the text; throws SimConfigError at the first YAML error. */
  constructor(
    text: string,
    /** The file, as the user named it. */
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const yamlError = this.doc.errors[0];
    if (yamlError) {
      const pos = this.lines.linePos(yamlError.pos[0]);
      throw new SimConfigError(
        file,
        pos.line,
        pos.col,
        '',
        `not valid YAML: ${yamlError.message.split('\n')[0]}`,
      );
    }
  }

  /** The document as plain data. */
  data(): unknown {
    return this.doc.toJS();
  }

  /** Refuses the file: a SimConfigError at the deepest node of `path` that exists in it. */
  fail(path: readonly PropertyKey[], message: string): never {
    const keys = path.filter((k): k is PathKey => typeof k !== 'symbol');
    let offset: number | undefined;
    for (let n = keys.length; n >= 0 && offset === undefined; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) offset = node.range[0];
    }
    const pos = offset === undefined ? { line: 0, col: 0 } : this.lines.linePos(offset);
    throw new SimConfigError(this.file, pos.line, pos.col, pathText(keys), message);
  }
}
