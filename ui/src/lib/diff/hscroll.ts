// Sideways scrolling of the side-by-side layout: each half scrolls on its own, under a
// scrollbar sized to the widest line seen so far on that side. Pure: tested without a DOM.
import type { DiffRow } from "../ipc";

/** Pixels per line when a wheel reports lines rather than pixels. */
export const HSCROLL_STEP = 40;
/** Columns a tab takes (the rows' `tab-size`). */
export const TAB = 4;

/** Columns a line takes in a monospace font, tabs expanded to the next stop. */
export function columns(text: string): number {
  if (!text.includes("\t")) return text.length;
  let col = 0;
  for (const ch of text) col = ch === "\t" ? col + TAB - (col % TAB) : col + 1;
  return col;
}

/** The widest line of each side among some rows (missing rows are skipped). */
export function maxColumns(rows: readonly (DiffRow | undefined)[]): { old: number; new: number } {
  const out = { old: 0, new: 0 };
  for (const r of rows) {
    if (r?.old) out.old = Math.max(out.old, columns(r.old.text));
    if (r?.new) out.new = Math.max(out.new, columns(r.new.text));
  }
  return out;
}

/** Which half a point `x` pixels from the left of a split view `width` wide is over. */
export function sideAt(x: number, width: number): "old" | "new" {
  return x < width / 2 ? "old" : "new";
}
