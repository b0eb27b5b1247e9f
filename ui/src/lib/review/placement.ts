// Where threads sit on the diff on screen, and the lines a reviewer picks. Pure: tested
// without a DOM.
import type { DraftView, PlacedThread } from "../ipc";

/** Lines picked on one side of the diff for a comment (1-based, inclusive). */
export type Picked = { side: "old" | "new"; start: number; end: number };

/**
 * The selection after a line number is picked: a plain pick starts over on that line; with
 * Shift it extends the range on the same side (a pick on the other side starts over).
 */
export function pick(current: Picked | null, side: "old" | "new", line: number, extend: boolean): Picked {
  if (!extend || !current || current.side !== side) return { side, start: line, end: line };
  return { side, start: Math.min(current.start, line), end: Math.max(current.end, line) };
}

/** The lines of the file open (new path, and the old path on the old side) that carry threads. */
export function markedLines(placed: PlacedThread[], path: string, oldPath: string | null): { old: Set<number>; new: Set<number> } {
  const out = { old: new Set<number>(), new: new Set<number>() };
  for (const p of placed) {
    const pl = p.placement;
    let span: [number, number] | null = null;
    if (pl.state === "current") span = [pl.start, pl.end];
    else if (pl.state === "outdated" && pl.lines) span = pl.lines;
    if (!span || (pl.state !== "current" && pl.state !== "outdated")) continue;
    const onFile = pl.side === "new" ? pl.path === path : pl.path === (oldPath ?? path);
    if (!onFile) continue;
    // The marker goes on the last line, where a reader finishes reading what is discussed.
    out[pl.side].add(span[1]);
  }
  return out;
}

/** The thread whose marker sits on `line` of `side`, if any. */
export function threadAt(placed: PlacedThread[], side: "old" | "new", line: number): string | null {
  for (const p of placed) {
    const pl = p.placement;
    if (pl.state === "current" && pl.side === side && pl.end === line) return p.thread_id;
    if (pl.state === "outdated" && pl.side === side && pl.lines?.[1] === line) return p.thread_id;
  }
  return null;
}

/** Threads that do not sit on the file open: on removed files, or made on a later revision. */
export function elsewhere(placed: PlacedThread[]): { removed: PlacedThread[]; later: PlacedThread[] } {
  return {
    removed: placed.filter((p) => p.placement.state === "file_removed"),
    later: placed.filter((p) => p.placement.state === "later"),
  };
}

/** How a placed thread reads in its card. */
export function placementLabel(p: PlacedThread): string {
  const pl = p.placement;
  const range = (a: number, b: number) => (a === b ? `line ${a}` : `lines ${a}–${b}`);
  switch (pl.state) {
    case "current":
      return `${pl.path}, ${range(pl.start, pl.end)}${p.made_on ? ` · from revision ${p.made_on}` : ""}`;
    case "outdated":
      return `${pl.path}${pl.lines ? `, near ${range(pl.lines[0], pl.lines[1])}` : ""} · made on revision ${p.made_on}`;
    case "file_removed":
      return `${pl.path} (removed) · made on revision ${p.made_on}`;
    case "later":
      return `${pl.path} · made on revision ${p.made_on}, newer than this comparison`;
  }
}

/** Rows a card takes per thread or draft between the diff's rows (it scrolls inside past that). */
export const CARD_ROWS = 5;
/** The most rows one line's cards take. */
export const MAX_CARD_ROWS = 15;

/** Threads and drafts on the open file, grouped by the line their card follows. */
export function cardsAt(
  placed: PlacedThread[],
  drafts: DraftView[],
  path: string,
  oldPath: string | null,
): { side: "old" | "new"; line: number; ids: string[]; height: number }[] {
  const groups = new Map<string, { side: "old" | "new"; line: number; ids: string[]; height: number }>();
  const add = (side: "old" | "new", line: number, id: string) => {
    const key = `${side}:${line}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { side, line, ids: [], height: 0 }));
    g.ids.push(id);
    g.height = Math.min(MAX_CARD_ROWS, g.ids.length * CARD_ROWS);
  };
  for (const p of placed) {
    const pl = p.placement;
    if (pl.state !== "current" && pl.state !== "outdated") continue;
    if (!(pl.side === "new" ? pl.path === path : pl.path === (oldPath ?? path))) continue;
    const end = pl.state === "current" ? pl.end : pl.lines?.[1];
    if (end !== undefined) add(pl.side, end, p.thread_id);
  }
  for (const d of drafts) {
    const a = d.anchor;
    if (a?.kind !== "revision_lines" || (a.path !== path && a.path !== oldPath)) continue;
    add(a.side, a.end_line, d.id);
  }
  return [...groups.values()].sort((a, b) => (a.side === b.side ? a.line - b.line : a.side < b.side ? -1 : 1));
}
