import { describe, expect, it } from "vitest";
import { Inserts } from "./inserts";

describe("inserts between rows", () => {
  const ins = new Inserts([
    { after: 5, height: 3, key: "b" },
    { after: 1, height: 2, key: "a" },
  ]);

  it("maps display indices to rows and cards, and back", () => {
    // rows 0 1 | a a | 2 3 4 5 | b b b | 6 7 …
    const seen = Array.from({ length: 14 }, (_, d) => ins.slot(d));
    expect(seen).toEqual([
      { row: 0 },
      { row: 1 },
      { insert: 0, offset: 0 },
      { insert: 0, offset: 1 },
      { row: 2 },
      { row: 3 },
      { row: 4 },
      { row: 5 },
      { insert: 1, offset: 0 },
      { insert: 1, offset: 1 },
      { insert: 1, offset: 2 },
      { row: 6 },
      { row: 7 },
      { row: 8 },
    ]);
    for (let r = 0; r < 9; r++) expect(ins.slot(ins.display(r))).toEqual({ row: r });
    expect(ins.total(10)).toBe(15);
    expect(ins.rows(2, 9)).toEqual({ start: 2, end: 6 });
    expect(ins.rows(2, 4)).toEqual({ start: 0, end: 0 });
  });

  it("with nothing inserted is the identity", () => {
    const none = new Inserts([]);
    expect(none.slot(7)).toEqual({ row: 7 });
    expect(none.display(7)).toBe(7);
    expect(none.total(10)).toBe(10);
  });
});
