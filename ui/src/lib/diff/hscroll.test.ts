import { describe, expect, it } from "vitest";
import type { DiffRow } from "../ipc";
import { columns, maxColumns, sideAt } from "./hscroll";

const cell = (text: string) => ({ line: 1, text, no_newline: false, truncated: false, emphasis: [] });

describe("columns", () => {
  it("counts characters, expanding tabs to the next stop", () => {
    expect(columns("abc")).toBe(3);
    expect(columns("\tx")).toBe(5);
    expect(columns("ab\tx")).toBe(5);
  });
});

describe("maxColumns", () => {
  it("measures each side on its own and skips rows not fetched", () => {
    const rows: (DiffRow | undefined)[] = [
      { kind: "changed", old: cell("short"), new: cell("x".repeat(300)), marker: null },
      undefined,
      { kind: "removed", old: cell("a much longer old line"), new: null, marker: null },
    ];
    expect(maxColumns(rows)).toEqual({ old: 22, new: 300 });
  });
});

describe("sideAt", () => {
  it("splits the view in halves", () => {
    expect(sideAt(10, 1000)).toBe("old");
    expect(sideAt(700, 1000)).toBe("new");
  });
});
