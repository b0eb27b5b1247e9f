// The syntax highlighting worker: parses files with lezer, off the UI thread, and answers the
// token spans of ranges of lines.
//
// A file is parsed only as far as the lines asked for (plus a margin), resuming from the
// previous partial tree when later lines are asked for: opening a 100k-line file at its top
// parses a few hundred lines, not all of it. The text is kept only until the parse reaches
// its end; then just the tree remains. Spans go back as one flat Int32Array (transferred, not
// copied) with a table of class names, so the UI thread makes no small arrays per token.
import { TreeFragment, type Parser, type Tree } from "@lezer/common";
import { classHighlighter, highlightTree } from "@lezer/highlight";
import type { Lang } from "./highlight";
import { painted } from "./palette";
import { flatSpans } from "./spans";
import { parserFor } from "./parsers";

type Doc = {
  parser: Parser;
  /** The text, until the parse has reached its end. */
  text: string | null;
  starts: Int32Array;
  length: number;
  /** The tree so far: up to `parsedTo`, or the whole text once `text` is null. */
  tree: Tree | null;
  parsedTo: number;
};
const docs = new Map<string, Doc>();

/** Past the last line asked for, how far to parse ahead: the next screens come free. */
const PARSE_AHEAD = 64 * 1024;

function lineStarts(text: string): Int32Array {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  const starts = new Int32Array(n);
  let k = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts[k++] = i + 1;
  return starts;
}

/** Parses `doc` at least up to `pos`, reusing the partial tree parsed so far. */
function parseTo(doc: Doc, pos: number): Tree | null {
  if (doc.text === null || doc.parsedTo >= pos) return doc.tree;
  const text = doc.text;
  const target = pos + PARSE_AHEAD >= doc.length ? doc.length : pos + PARSE_AHEAD;
  const fragments = doc.tree ? TreeFragment.addTree(doc.tree, [], true) : [];
  const parse = doc.parser.startParse(text, fragments);
  if (target < doc.length) parse.stopAt(target);
  let tree: Tree | null = null;
  while (!tree) tree = parse.advance();
  doc.tree = tree;
  doc.parsedTo = target;
  if (target >= doc.length) doc.text = null;
  return tree;
}

/** Class strings by index, shared with the UI thread (which keeps its own copy of the table). */
const classes: string[] = [];
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

function spans(doc: Doc, from: number, to: number): Int32Array {
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

type Message = { id: number; type: string; doc: string; lang?: Lang; bytes?: ArrayBuffer; from?: number; to?: number };

self.onmessage = async (e: MessageEvent<Message>) => {
  const m = e.data;
  // Not IPC, so not attempt(): a worker's failure must go back to the page as a message.
  try {
    if (m.type === "open" && m.lang && m.bytes) {
      const parser = await parserFor(m.lang);
      const text = new TextDecoder().decode(m.bytes);
      docs.set(m.doc, { parser, text, starts: lineStarts(text), length: text.length, tree: null, parsedTo: 0 });
      self.postMessage({ id: m.id, ok: true });
    } else if (m.type === "spans") {
      const doc = docs.get(m.doc);
      if (!doc) self.postMessage({ id: m.id, ok: false, error: "not parsed" });
      else {
        const data = spans(doc, m.from ?? 0, m.to ?? 0);
        self.postMessage({ id: m.id, ok: true, data, classes }, { transfer: [data.buffer] });
      }
    } else if (m.type === "drop") {
      docs.delete(m.doc);
      self.postMessage({ id: m.id, ok: true });
    }
  } catch (err) {
    self.postMessage({ id: m.id, ok: false, error: String(err) });
  }
};
