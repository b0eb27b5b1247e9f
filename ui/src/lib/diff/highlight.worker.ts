// The syntax highlighting worker: parses whole files with lezer and answers the token spans
// of ranges of lines. Off the UI thread, so a 4 MB file parses without a dropped frame.
import type { Parser, Tree } from "@lezer/common";
import { classHighlighter, highlightTree } from "@lezer/highlight";
import type { Lang, Span } from "./highlight";

async function parserFor(lang: Lang): Promise<Parser> {
  switch (lang) {
    case "js":
    case "jsx":
    case "ts":
    case "tsx": {
      const { parser } = await import("@lezer/javascript");
      const dialect = lang === "js" ? "" : lang === "jsx" ? "jsx" : lang === "ts" ? "ts" : "ts jsx";
      return parser.configure({ dialect });
    }
    case "rust":
      return (await import("@lezer/rust")).parser;
    case "html":
      return (await import("@lezer/html")).parser;
    case "css":
      return (await import("@lezer/css")).parser;
    case "json":
      return (await import("@lezer/json")).parser;
    case "markdown":
      return (await import("@lezer/markdown")).parser;
    case "python":
      return (await import("@lezer/python")).parser;
  }
}

type Doc = { tree: Tree; starts: number[]; length: number };
const docs = new Map<string, Doc>();

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function spans(doc: Doc, from: number, to: number): Span[][] {
  const first = Math.max(0, from);
  const last = Math.min(to, doc.starts.length);
  const lines: Span[][] = [];
  for (let i = first; i < last; i++) lines.push([]);
  if (last <= first) return lines;
  const start = doc.starts[first] ?? 0;
  const end = doc.starts[last] ?? doc.length;
  let line = first;
  highlightTree(
    doc.tree,
    classHighlighter,
    (f, t, classes) => {
      // A token may cross lines (a block comment): cut it at each line start.
      while (f < t) {
        while (line + 1 < last && (doc.starts[line + 1] ?? Infinity) <= f) line++;
        const lineStart = doc.starts[line] ?? 0;
        const lineEnd = line + 1 < doc.starts.length ? (doc.starts[line + 1] ?? doc.length) - 1 : doc.length;
        const cut = Math.min(t, lineEnd);
        if (cut > f) lines[line - first]?.push([f - lineStart, cut - lineStart, classes]);
        if (t <= lineEnd || line + 1 >= last) break;
        f = lineEnd + 1;
      }
    },
    start,
    end,
  );
  return lines;
}

self.onmessage = async (e: MessageEvent<{ id: number; type: string; doc: string; lang?: Lang; text?: string; from?: number; to?: number }>) => {
  const m = e.data;
  // Not IPC, so not attempt(): a worker's failure must go back to the page as a message.
  try {
    if (m.type === "parse" && m.lang && m.text !== undefined) {
      const parser = await parserFor(m.lang);
      docs.set(m.doc, { tree: parser.parse(m.text), starts: lineStarts(m.text), length: m.text.length });
      self.postMessage({ id: m.id, ok: true });
    } else if (m.type === "spans") {
      const doc = docs.get(m.doc);
      if (!doc) self.postMessage({ id: m.id, ok: false, error: "not parsed" });
      else self.postMessage({ id: m.id, ok: true, lines: spans(doc, m.from ?? 0, m.to ?? 0) });
    } else if (m.type === "drop") {
      docs.delete(m.doc);
      self.postMessage({ id: m.id, ok: true });
    }
  } catch (err) {
    self.postMessage({ id: m.id, ok: false, error: String(err) });
  }
};
