// A highlighted document in the worker: its text until parsed to the end, the lezer tree so
// far, and the token spans of ranges of lines. Kept apart from the worker's messages so it
// can be tested without a worker.
import { TreeFragment, type Parser, type Tree } from "@lezer/common";
import { classHighlighter, highlightTree } from "@lezer/highlight";
import { painted } from "./palette";
import { flatSpans } from "./spans";

/** A document being highlighted. */
export type Doc = {
  parser: Parser;
  /** The text, until the parse has reached its end. */
  text: string | null;
  starts: Int32Array;
  length: number;
  /** The tree so far: up to `parsedTo`, or the whole text once `text` is null. */
  tree: Tree | null;
  parsedTo: number;
};

/** Past the last line asked for, how far to parse ahead: the next screens come free. */
const PARSE_AHEAD = 64 * 1024;

/**
 * The most one parse covers before its tree is kept and the next resumes from it. A jump to the
 * end of both sides of the whatwg pair (4 MB each) parsed in one go added 126 MiB to the web
 * process, most of it the parse's own working state; in 64 KB steps it adds 61 MiB and takes
 * half the time (256 KB: 81 MiB; 16 KB: 52 MiB but slower).
 */
export const PARSE_STEP = 64 * 1024;

/** A document to highlight with `parser`, nothing parsed yet. */
export function openDoc(parser: Parser, text: string): Doc {
  return { parser, text, starts: lineStarts(text), length: text.length, tree: null, parsedTo: 0 };
}

function lineStarts(text: string): Int32Array {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  const starts = new Int32Array(n);
  let k = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts[k++] = i + 1;
  return starts;
}

/**
 * Parses `doc` at least up to `pos` (and `PARSE_AHEAD` beyond), resuming from the partial tree
 * parsed so far, at most `step` characters per parse.
 */
export function parseTo(doc: Doc, pos: number, step = PARSE_STEP): Tree | null {
  if (doc.text === null || doc.parsedTo >= pos) return doc.tree;
  const text = doc.text;
  const target = pos + PARSE_AHEAD >= doc.length ? doc.length : pos + PARSE_AHEAD;
  while (doc.parsedTo < target) {
    const until = Math.min(target, doc.parsedTo + step);
    const fragments = doc.tree ? TreeFragment.addTree(doc.tree, [], true) : [];
    const parse = doc.parser.startParse(text, fragments);
    if (until < doc.length) parse.stopAt(until);
    let tree: Tree | null = null;
    while (!tree) tree = parse.advance();
    doc.tree = tree;
    doc.parsedTo = until;
  }
  if (doc.parsedTo >= doc.length) doc.text = null;
  return doc.tree;
}

/** Class strings by index, shared with the UI thread (which keeps its own copy of the table). */
export const classes: string[] = [];
const classIndex = new Map<string, number>();
function classId(c: string): number {
  let id = classIndex.get(c);
  if (id === undefined) {
    id = classes.length;
    classes.push(c);
    classIndex.set(c, id);
  }
  return id;
}

/** The coloured token spans of lines `[from, to)` as `(line - from, start, end, class)` quads. */
export function spans(doc: Doc, from: number, to: number): Int32Array {
  const first = Math.max(0, from);
  const last = Math.min(to, doc.starts.length);
  if (last <= first) return new Int32Array(0);
  const start = doc.starts[first] ?? 0;
  const end = last < doc.starts.length ? (doc.starts[last] ?? doc.length) : doc.length;
  const tree = parseTo(doc, end);
  if (!tree) return new Int32Array(0);
  const out = flatSpans();
  let line = first;
  highlightTree(
    tree,
    classHighlighter,
    (f, t, cls) => {
      if (!painted(cls)) return;
      // A token may cross lines (a block comment): cut it at each line start.
      while (f < t) {
        while (line + 1 < last && (doc.starts[line + 1] ?? Infinity) <= f) line++;
        const lineStart = doc.starts[line] ?? 0;
        const lineEnd = line + 1 < doc.starts.length ? (doc.starts[line + 1] ?? doc.length) - 1 : doc.length;
        const cut = Math.min(t, lineEnd);
        if (cut > f) out.push(line - first, f - lineStart, cut - lineStart, classId(cls));
        if (t <= lineEnd || line + 1 >= last) break;
        f = lineEnd + 1;
      }
    },
    start,
    end,
  );
  return out.done();
}

