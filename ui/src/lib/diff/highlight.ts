// Syntax highlighting for the diff viewer: lezer parsers run in a Web Worker that parses a
// whole file once (per-line highlighting gets multi-line strings and comments wrong) and then
// answers the token spans of the lines on screen. This module picks the language and turns a
// line's text, word emphasis and spans into HTML.

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

/** A highlighted range of a line: `[start, end, classes]`, offsets in UTF-16 units from the line start. */
export type Span = [number, number, string];

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
export function lineHtml(text: string, emphasis: readonly (readonly [number, number])[], spans: readonly Span[] = []): string {
  if (emphasis.length === 0 && spans.length === 0) return escapeHtml(text);
  const cuts = new Set<number>([0, text.length]);
  const clamp = (n: number) => Math.max(0, Math.min(text.length, n));
  for (const [s, e] of emphasis) cuts.add(clamp(s)).add(clamp(e));
  for (const [s, e] of spans) cuts.add(clamp(s)).add(clamp(e));
  const points = [...cuts].sort((a, b) => a - b);
  let out = "";
  let si = 0;
  let ei = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k] ?? 0;
    const b = points[k + 1] ?? 0;
    if (a >= b) continue;
    while (si < spans.length && (spans[si]?.[1] ?? 0) <= a) si++;
    while (ei < emphasis.length && (emphasis[ei]?.[1] ?? 0) <= a) ei++;
    const span = spans[si];
    const em = emphasis[ei];
    const classes = [span && span[0] <= a ? span[2] : "", em && em[0] <= a ? "em" : ""].filter(Boolean).join(" ");
    const piece = escapeHtml(text.slice(a, b));
    out += classes ? `<span class="${escapeHtml(classes)}">${piece}</span>` : piece;
  }
  return out;
}

type Reply = { id: number; ok: true; lines?: Span[][] } | { id: number; ok: false; error: string };

/**
 * The worker's client: parse a document once, then ask for the spans of line ranges. One
 * worker for the app, made on first use; requests are answered in order.
 */
export class Highlighter {
  private worker: Worker | null = null;
  private next = 1;
  private waiting = new Map<number, { resolve: (r: Reply) => void }>();

  private post(message: Record<string, unknown>): Promise<Reply> {
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
      worker.postMessage({ ...message, id });
    });
  }

  /** Parses `text` as document `doc` (replacing any document of that name). */
  async parse(doc: string, lang: Lang, text: string): Promise<boolean> {
    return (await this.post({ type: "parse", doc, lang, text })).ok;
  }

  /** Spans of lines `[from, to)` (0-based) of a parsed document; null if it is not parsed. */
  async spans(doc: string, from: number, to: number): Promise<Span[][] | null> {
    const r = await this.post({ type: "spans", doc, from, to });
    return r.ok ? (r.lines ?? []) : null;
  }

  /** Forgets a document. */
  drop(doc: string): void {
    if (this.worker) void this.post({ type: "drop", doc });
  }
}

/** The app's one highlighter. */
export const highlighter = new Highlighter();

/** Documents parsed (or being parsed), most recent last; a few are kept, older ones dropped. */
const parsed = new Map<string, Promise<boolean>>();
const DOCS_KEPT = 4;

/**
 * Parses a document once: later calls for the same name share the first parse. `load` gives
 * its text (null: nothing to highlight, such as a binary side).
 */
export function ensureParsed(doc: string, lang: Lang, load: () => Promise<string | null>): Promise<boolean> {
  const known = parsed.get(doc);
  if (known) {
    parsed.delete(doc);
    parsed.set(doc, known);
    return known;
  }
  // Highlighting is an extra: any failure (no worker, a parser error) leaves plain text.
  const job = load()
    .then((text) => (text === null || text.length > MAX_HIGHLIGHT_CHARS ? false : highlighter.parse(doc, lang, text)))
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
export const MAX_HIGHLIGHT_CHARS = 16_000_000;
