import { describe, expect, it } from "vitest";
import { criterionInputs, emptyRow, parseLines } from "./criteria";

describe("criterion rows", () => {
  it("parses line ranges the way people type them", () => {
    expect(parseLines("12")).toEqual({ start: 12, end: 12 });
    expect(parseLines(" 3 - 9 ")).toEqual({ start: 3, end: 9 });
    expect(parseLines("3–9")).toEqual({ start: 3, end: 9 });
    expect(parseLines("0")).toBeNull();
    expect(parseLines("9-3")).toBeNull();
    expect(parseLines("a-b")).toBeNull();
  });

  it("sends set rows by position and leaves untouched ones out", () => {
    const rows = [emptyRow(), { ...emptyRow(), status: "met" as const, note: " ok ", evidencePath: "src/a.rs", evidenceLines: "4-8" }, { ...emptyRow(), status: "not_applicable" as const }];
    expect(criterionInputs(rows)).toEqual([
      { position: 2, status: "met", note: "ok", evidence: { path: "src/a.rs", start_line: 4, end_line: 8 } },
      { position: 3, status: "not_applicable", note: "", evidence: null },
    ]);
  });

  it("refuses evidence that points nowhere, naming the criterion", () => {
    expect(() => criterionInputs([emptyRow(), { ...emptyRow(), status: "met", evidencePath: "a.rs" }])).toThrow(/Criterion 2/);
    expect(() => criterionInputs([{ ...emptyRow(), evidenceLines: "1-2" }])).toThrow(/needs a file/);
  });
});
