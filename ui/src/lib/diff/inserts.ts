// Thread cards drawn between the rows of the diff: each is a block of whole rows inserted
// after the row it is about, so the fixed-row window stays fixed. Maps the window's display
// indices to the file's rows (what Rust numbers) and back. Pure: tested without a DOM.

/** A card of `height` rows drawn after row `after` of the file. */
export type Insert = { after: number; height: number; key: string };

/** What a display index shows: a row of the file, or row `offset` of insert `index`. */
export type Slot = { row: number } | { insert: number; offset: number };

export class Inserts {
  /** Sorted by `after`; `starts[j]` is insert j's first display index. */
  readonly list: Insert[];
  private starts: number[];

  constructor(list: Insert[]) {
    this.list = [...list].filter((i) => i.height > 0).sort((a, b) => a.after - b.after || (a.key < b.key ? -1 : 1));
    let before = 0;
    this.starts = this.list.map((i) => {
      const s = i.after + 1 + before;
      before += i.height;
      return s;
    });
  }

  /** Display rows for a file of `rows` rows. */
  total(rows: number): number {
    return rows + this.list.reduce((n, i) => n + i.height, 0);
  }

  /** How many inserts start at or before display index `d` (binary search). */
  private countUpTo(d: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] ?? Infinity) <= d) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** What display index `d` shows. */
  slot(d: number): Slot {
    const j = this.countUpTo(d) - 1;
    if (j >= 0) {
      const start = this.starts[j] ?? 0;
      const ins = this.list[j];
      if (ins && d < start + ins.height) return { insert: j, offset: d - start };
    }
    // Rows before display index d: d minus the heights of the inserts wholly before it.
    let shift = 0;
    for (let k = 0; k <= j; k++) shift += this.list[k]?.height ?? 0;
    return { row: d - shift };
  }

  /** The display index of file row `r`. */
  display(r: number): number {
    let shift = 0;
    for (const i of this.list) {
      if (i.after < r) shift += i.height;
      else break;
    }
    return r + shift;
  }

  /** The file rows `[start, end)` a display range covers (for fetching blocks). */
  rows(start: number, end: number): { start: number; end: number } {
    let lo = Infinity;
    let hi = -1;
    for (let d = start; d < end; d++) {
      const s = this.slot(d);
      if ("row" in s) {
        lo = Math.min(lo, s.row);
        hi = Math.max(hi, s.row);
      }
    }
    return hi < 0 ? { start: 0, end: 0 } : { start: lo, end: hi + 1 };
  }
}
