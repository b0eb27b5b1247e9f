import { describe, expect, it } from "vitest";
import { SpanCache, flatSpans, lineSpans } from "./spans";

describe("flatSpans", () => {
  it("grows and returns exactly what was written", () => {
    const b = flatSpans(4);
    for (let i = 0; i < 5; i++) b.push(i, i + 1, i + 2, i + 3);
    const out = b.done();
    expect(out.length).toBe(20);
    expect([...out.slice(16)]).toEqual([4, 5, 6, 7]);
  });
});

describe("SpanCache", () => {
  it("splits an answer into lines, including lines without spans", () => {
    const c = new SpanCache();
    // Lines 10..13: line 10 has two spans, 11 none, 12 one.
    c.store(10, 13, Int32Array.from([0, 0, 3, 0, 0, 4, 5, 1, 2, 0, 1, 0]), ["a", "b"]);
    expect([...(c.get(10)?.data ?? [])]).toEqual([0, 0, 3, 0, 0, 4, 5, 1]);
    expect(c.get(11)?.data.length).toBe(0);
    expect([...(c.get(12)?.data ?? [])]).toEqual([2, 0, 1, 0]);
    expect(c.has(13)).toBe(false);
  });

  it("keeps at most its limit of lines, dropping the oldest stored", () => {
    const c = new SpanCache(100);
    for (let from = 0; from < 100_000; from += 50) c.store(from, from + 50, new Int32Array(0), []);
    expect(c.size).toBe(100);
    expect(c.has(0)).toBe(false);
    expect(c.has(99_999)).toBe(true);
  });
});

describe("lineSpans", () => {
  it("packs triples with a class table", () => {
    const s = lineSpans([
      [0, 3, "k"],
      [4, 5, "n"],
      [6, 7, "k"],
    ]);
    expect(s.classes).toEqual(["k", "n"]);
    expect([...s.data]).toEqual([0, 0, 3, 0, 0, 4, 5, 1, 0, 6, 7, 0]);
  });
});
