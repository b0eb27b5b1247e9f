// A diff row of code as one HTML string. Rows are built as fast as a screen scrolls by: one
// string set as HTML costs WebKit one parse, where a row of components costs a dozen DOM
// calls and reactive effects, made and torn down again for every row that scrolls past.
// Clicks and keys on line numbers are handled once, on the scroller (see `pickTarget`).
import type { DiffLayout, DiffRow } from "../ipc";

type Side = "old" | "new";

/** What a row shows besides its text: picked lines and lines with threads. */
export type RowMarks = {
  picked: (side: Side, line: number) => boolean;
  marked: (side: Side, line: number) => boolean;
};

const SIGN: Record<string, string> = { added: "+", removed: "−", context: " " };
const NO_NEWLINE = '<span class="nonl" title="No newline at end of file">⊘ no newline at end of file</span>';

function num(side: Side, line: number | undefined, marks: RowMarks): string {
  if (line === undefined) return '<span class="num"></span>';
  const mark = marks.marked(side, line)
    ? '<button type="button" class="mark" title="Threads on this line" data-testid="thread-mark">●</button>'
    : "";
  return (
    `<span class="num pick${marks.picked(side, line) ? " picked" : ""}" role="button" tabindex="0"` +
    ` title="Comment on this line (Shift: extend the range)" data-testid="line-${side}-${line}"` +
    ` data-side="${side}" data-line="${line}">${mark}${line}</span>`
  );
}

function code(side: Side, row: DiffRow, html: (side: Side) => string, marks: RowMarks): string {
  const line = row[side]?.line;
  const picked = line !== undefined && marks.picked(side, line);
  return `<span class="code${picked ? " picked" : ""}">${html(side)}</span>${row[side]?.no_newline ? NO_NEWLINE : ""}`;
}

/**
 * A row of code (not a hunk or gap marker) as HTML: line numbers, sign and text in unified
 * layout, two halves side by side. `index` is the file's row; `html` gives a side's text as
 * HTML (escaped, with syntax and word spans).
 */
export function rowHtml(row: DiffRow, index: number, layout: DiffLayout, html: (side: Side) => string, marks: RowMarks): string {
  const open = `<div class="row ${row.kind}`;
  const data = `data-testid="diff-row" data-row="${index}" data-kind="${row.kind}"`;
  if (layout === "split") {
    const half = (side: Side, changed: string) => {
      const cell = row[side];
      const cls = !cell ? " none" : row.kind !== "context" ? ` ${changed}` : "";
      return `<div class="half ${side}${cls}">${num(side, cell?.line, marks)}${code(side, row, html, marks)}</div>`;
    };
    return `${open}" ${data}>${half("old", "del")}${half("new", "add")}</div>`;
  }
  const side: Side = row.kind === "removed" ? "old" : "new";
  const tint = row.kind === "added" ? " add" : row.kind === "removed" ? " del" : "";
  return (
    `${open}${tint}" ${data}>${num("old", row.old?.line, marks)}${num("new", row.new?.line, marks)}` +
    `<span class="sign">${SIGN[row.kind] ?? " "}</span>${code(side, row, html, marks)}</div>`
  );
}

/** The line number (and whether its thread marker) an event on a row's HTML hit, if any. */
export function pickTarget(target: EventTarget | null): { side: Side; line: number; mark: boolean } | null {
  if (!(target instanceof Element)) return null;
  const num = target.closest<HTMLElement>(".pick");
  const side = num?.dataset.side;
  const line = Number(num?.dataset.line);
  if (!num || (side !== "old" && side !== "new") || !Number.isInteger(line)) return null;
  return { side, line, mark: !!target.closest(".mark") };
}
