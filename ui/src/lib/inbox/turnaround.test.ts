import { describe, expect, it } from "vitest";
import { barWidths } from "./turnaround";

describe("barWidths", () => {
  it("scales to the slowest, which fills the track", () => {
    expect(barWidths([3_600_000, 1_800_000, 0])).toEqual([100, 50, 0]);
  });
  it("draws nothing when no time was spent, and never a negative bar", () => {
    expect(barWidths([0, 0])).toEqual([0, 0]);
    expect(barWidths([-5, 10])).toEqual([0, 100]);
    expect(barWidths([])).toEqual([]);
  });
});
