// The fixed-row virtual window (UI-STACK.md: measured best in WebKitGTK): which rows to
// paint for a scroll position, and which blocks of rows to ask Rust for. Pure: tested without a DOM.

/** Height of every row in pixels; fixed, so a row's position is `index * ROW_HEIGHT`. */
export const ROW_HEIGHT = 20;
/** Rows painted beyond each edge of the viewport, so a fast scroll rarely shows empty rows. */
export const OVERSCAN = 10;
/** Rows fetched per request: large enough that a screen needs one or two, small enough to ship fast. */
export const BLOCK = 200;

/**
 * Blocks of rows kept: a screen with its overscan spans at most two, and a few more keep a
 * short scroll back free. Rows are cheap to ask for again; memory held while scrolling a
 * 100k-row file is not.
 */
export const BLOCKS_KEPT = 6;

/** Rows `[start, end)` to paint. */
export type Range = { start: number; end: number };

/** The rows to paint for a scroll position, clamped to `[0, total)`. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  total: number,
  rowHeight = ROW_HEIGHT,
  overscan = OVERSCAN,
): Range {
  if (total <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first, total - 1) - overscan);
  const end = Math.min(total, first + shown + overscan);
  return { start, end: Math.max(start, end) };
}

/** The block indices covering a range of rows. */
export function blocksFor(range: Range, block = BLOCK): number[] {
  if (range.end <= range.start) return [];
  const out: number[] = [];
  for (let b = Math.floor(range.start / block); b <= Math.floor((range.end - 1) / block); b++) out.push(b);
  return out;
}

/** The scrollTop that puts row `index` at the top of the viewport (a few rows of lead). */
export function scrollTopFor(index: number, lead = 3): number {
  return Math.max(0, index - lead) * ROW_HEIGHT;
}

/**
 * The scrollTop that shows row `index` whole, moving as little as possible: unchanged when it
 * is already in view, else the row lands at the edge it was beyond.
 */
export function scrollTopShowing(index: number, rowHeight: number, scrollTop: number, viewport: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewport) return Math.max(0, Math.min(top, bottom - viewport));
  return scrollTop;
}

/** The first row at least partly visible for a scroll position. */
export function topRow(scrollTop: number): number {
  return Math.floor(Math.max(0, scrollTop) / ROW_HEIGHT);
}

/**
 * Blocks of rows kept by index, at most `limit`, least recently used dropped first, so a
 * long scroll through a 100k-row file keeps memory flat.
 */
export class BlockCache<T> {
  private blocks = new Map<number, T[]>();
  constructor(private limit = 40) {}

  /** The row at `index`, if its block is here. */
  row(index: number, block = BLOCK): T | undefined {
    return this.blocks.get(Math.floor(index / block))?.[index % block];
  }

  has(b: number): boolean {
    return this.blocks.has(b);
  }

  /** Marks a block used now (kept longest). */
  touch(b: number): void {
    const rows = this.blocks.get(b);
    if (rows) {
      this.blocks.delete(b);
      this.blocks.set(b, rows);
    }
  }

  set(b: number, rows: T[]): void {
    this.blocks.delete(b);
    this.blocks.set(b, rows);
    while (this.blocks.size > this.limit) {
      const oldest = this.blocks.keys().next().value;
      if (oldest === undefined) break;
      this.blocks.delete(oldest);
    }
  }

  get size(): number {
    return this.blocks.size;
  }

  clear(): void {
    this.blocks.clear();
  }
}

/**
 * The hunk to jump to from the current top row: the first whose jump target (a few rows of
 * lead above it) is below the top (`dir` 1), or the last one above it (`dir` -1); null at the ends.
 */
export function adjacentHunk(hunkRows: number[], top: number, dir: 1 | -1, lead = 3): number | null {
  const target = (h: number) => Math.max(0, h - lead);
  if (dir === 1) return hunkRows.find((h) => target(h) > top) ?? null;
  for (let i = hunkRows.length - 1; i >= 0; i--) {
    const h = hunkRows[i];
    if (h !== undefined && target(h) < top) return h;
  }
  return null;
}
