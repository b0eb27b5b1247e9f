// Syntax highlighting for the diff viewer: lezer parsers run in a Web Worker that parses a
// file from its start (per-line highlighting gets multi-line strings and comments wrong), only
// as far as the lines asked for, and answers the token spans of the lines on screen. This
// module picks the language and turns a line's text, word emphasis and spans into HTML.
import type { LineSpans } from "./spans";

/** Languages with a parser; anything else is plain text. */
export type Lang = "js" | "jsx" | "ts" | "tsx" | "rust" | "html" | "css" | "json" | "markdown" | "python";

const BY_EXTENSION: Record<string, Lang> = {
  js: "js",
  mjs: "js",
  cjs: "js",
  jsx: "jsx",
  ts: "ts",
  mts: "ts",
  cts: "ts",
  tsx: "tsx",
  rs: "rust",
  html: "html",
  htm: "html",
  svelte: "html",
  vue: "html",
  css: "css",
  json: "json",
  md: "markdown",
  markdown: "markdown",
  py: "python",
  pyi: "python",
};

/** The language of a path by its extension, or null for plain text. */
export function languageFor(path: string): Lang | null {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  return BY_EXTENSION[name.slice(dot + 1)] ?? null;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to put into HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * A line's HTML: its text cut where syntax spans and word emphasis start and end, each piece
 * in a span with its token classes (and `em` inside a word-level change). Spans and emphasis
 * are sorted and non-overlapping among themselves; anything past the text is ignored.
 */
export function lineHtml(text: string, emphasis: readonly (readonly [number, number])[], spans?: LineSpans): string {
  const data = spans?.data;
  const count = data ? data.length >> 2 : 0;
  if (emphasis.length === 0 && count === 0) return escapeHtml(text);
  const clamp = (n: number) => Math.max(0, Math.min(text.length, n));
  const cuts = [0, text.length];
  for (const [s, e] of emphasis) cuts.push(clamp(s), clamp(e));
  for (let k = 0; k < count; k++) cuts.push(clamp(data?.[k * 4 + 1] ?? 0), clamp(data?.[k * 4 + 2] ?? 0));
  cuts.sort((a, b) => a - b);
  let out = "";
  let si = 0;
  let ei = 0;
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k] ?? 0;
    const b = cuts[k + 1] ?? 0;
    if (a >= b) continue;
    while (si < count && (data?.[si * 4 + 2] ?? 0) <= a) si++;
    while (ei < emphasis.length && (emphasis[ei]?.[1] ?? 0) <= a) ei++;
    const token = si < count && (data?.[si * 4 + 1] ?? 0) <= a ? spans?.classes[data?.[si * 4 + 3] ?? -1] : undefined;
    const em = emphasis[ei];
    const inEm = !!em && em[0] <= a;
    const classes = token ? (inEm ? `${token} em` : token) : inEm ? "em" : "";
    const piece = escapeHtml(text.slice(a, b));
    out += classes ? `<span class="${escapeHtml(classes)}">${piece}</span>` : piece;
  }
  return out;
}

type Reply =
  | { id: number; ok: true; data?: Int32Array; classes?: string[] }
  | { id: number; ok: false; error: string };

/**
 * The worker's client: open a document once, then ask for the spans of line ranges. One
 * worker for the app, made on first use; requests are answered in order.
 */
export class Highlighter {
  private worker: Worker | null = null;
  private next = 1;
  private waiting = new Map<number, { resolve: (r: Reply) => void }>();

  private post(message: Record<string, unknown>, transfer: Transferable[] = []): Promise<Reply> {
    if (typeof Worker === "undefined") return Promise.resolve({ id: 0, ok: false, error: "no workers here" });
    if (!this.worker) {
      this.worker = new Worker(new URL("./highlight.worker.ts", import.meta.url), { type: "module" });
      this.worker.onmessage = (e: MessageEvent<Reply>) => {
        this.waiting.get(e.data.id)?.resolve(e.data);
        this.waiting.delete(e.data.id);
      };
    }
    const id = this.next++;
    const worker = this.worker;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve });
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  /**
   * Hands the worker document `doc`'s UTF-8 text (the buffer moves to the worker, no copy);
   * it is parsed later, as far as lines are asked for.
   */
  async open(doc: string, lang: Lang, bytes: ArrayBuffer): Promise<boolean> {
    return (await this.post({ type: "open", doc, lang, bytes }, [bytes])).ok;
  }

  /** Spans of lines `[from, to)` (0-based) as `(line - from, start, end, class)` quads; null if the document is not open. */
  async spans(doc: string, from: number, to: number): Promise<{ data: Int32Array; classes: string[] } | null> {
    const r = await this.post({ type: "spans", doc, from, to });
    return r.ok ? { data: r.data ?? new Int32Array(0), classes: r.classes ?? [] } : null;
  }

  /** Forgets a document. */
  drop(doc: string): void {
    if (this.worker) void this.post({ type: "drop", doc });
  }
}

/** The app's one highlighter. */
export const highlighter = new Highlighter();

/** Documents opened (or being opened), most recent last; a few are kept, older ones dropped. */
const parsed = new Map<string, Promise<boolean>>();
const DOCS_KEPT = 4;

/**
 * Opens a document in the worker once: later calls for the same name share the first. `load`
 * gives its UTF-8 text (null: nothing to highlight, such as a binary side).
 */
export function ensureOpen(doc: string, lang: Lang, load: () => Promise<ArrayBuffer | null>): Promise<boolean> {
  const known = parsed.get(doc);
  if (known) {
    parsed.delete(doc);
    parsed.set(doc, known);
    return known;
  }
  // Highlighting is an extra: any failure (no worker, a parser error) leaves plain text.
  const job = load()
    .then((bytes) => (bytes === null || bytes.byteLength > MAX_HIGHLIGHT_BYTES ? false : highlighter.open(doc, lang, bytes)))
    .catch(() => false);
  parsed.set(doc, job);
  while (parsed.size > DOCS_KEPT) {
    const oldest = parsed.keys().next().value;
    if (oldest === undefined) break;
    parsed.delete(oldest);
    highlighter.drop(oldest);
  }
  return job;
}

/** Files larger than this are shown without syntax colors (the diff itself has no limit). */
export const MAX_HIGHLIGHT_BYTES = 16_000_000;
