// Token spans in flat typed arrays: the worker writes `(line, start, end, class)` quads into
// one Int32Array per answer; the UI keeps a bounded number of lines' views into them. A
// 100k-line file scrolled top to bottom would otherwise leave a small array per token behind.

/** A growable Int32Array builder. */
export function flatSpans(initial = 4096) {
  let data = new Int32Array(initial);
  let n = 0;
  return {
    push(a: number, b: number, c: number, d: number): void {
      if (n + 4 > data.length) {
        const bigger = new Int32Array(data.length * 2);
        bigger.set(data);
        data = bigger;
      }
      data[n++] = a;
      data[n++] = b;
      data[n++] = c;
      data[n++] = d;
    },
    /** The quads written, in an array of their exact size. */
    done(): Int32Array {
      return data.slice(0, n);
    },
  };
}

/** One line's spans: quads `(line, start, end, class)` of `data`, classes named by `classes`. */
export type LineSpans = { data: Int32Array; classes: readonly string[] };

/**
 * Lines' spans kept by line number, at most `limit` lines, least recently stored dropped
 * first: only the lines near the screen are ever needed again.
 */
export class SpanCache {
  private lines = new Map<number, LineSpans>();
  constructor(private limit = 2000) {}

  /** Stores the spans of lines `[from, to)` from a worker answer (quads sorted by line). */
  store(from: number, to: number, data: Int32Array, classes: readonly string[]): void {
    let q = 0;
    for (let line = from; line < to; line++) {
      const start = q;
      while (q < data.length && data[q] === line - from) q += 4;
      this.lines.delete(line);
      this.lines.set(line, { data: data.subarray(start, q), classes });
    }
    for (const oldest of this.lines.keys()) {
      if (this.lines.size <= this.limit) break;
      this.lines.delete(oldest);
    }
  }

  get(line: number): LineSpans | undefined {
    return this.lines.get(line);
  }

  has(line: number): boolean {
    return this.lines.has(line);
  }

  get size(): number {
    return this.lines.size;
  }
}

/** Spans written as `[start, end, class]` triples, as one line's LineSpans (for tests and callers with few spans). */
export function lineSpans(list: readonly (readonly [number, number, string])[]): LineSpans {
  const classes = [...new Set(list.map((s) => s[2]))];
  const data = new Int32Array(list.length * 4);
  list.forEach(([s, e, c], k) => data.set([0, s, e, classes.indexOf(c)], k * 4));
  return { data, classes };
}
