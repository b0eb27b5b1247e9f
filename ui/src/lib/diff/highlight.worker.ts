// The syntax highlighting worker: parses files with lezer, off the UI thread, and answers the
// token spans of ranges of lines.
//
// A file is parsed only as far as the lines asked for (plus a margin), resuming from the
// previous partial tree when later lines are asked for: opening a 100k-line file at its top
// parses a few hundred lines, not all of it. The text is kept only until the parse reaches
// its end; then just the tree remains. Spans go back as one flat Int32Array (transferred, not
// copied) with a table of class names, so the UI thread makes no small arrays per token.
import type { Lang } from "./highlight";
import { classes, openDoc, spans, type Doc } from "./document";
import { parserFor } from "./parsers";

const docs = new Map<string, Doc>();

type Message = { id: number; type: string; doc: string; lang?: Lang; bytes?: ArrayBuffer; from?: number; to?: number };

self.onmessage = async (e: MessageEvent<Message>) => {
  const m = e.data;
  // Not IPC, so not attempt(): a worker's failure must go back to the page as a message.
  try {
    if (m.type === "open" && m.lang && m.bytes) {
      const parser = await parserFor(m.lang);
      docs.set(m.doc, openDoc(parser, new TextDecoder().decode(m.bytes)));
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
