import { describe, expect, it } from "vitest";
import { BLOCK, BlockCache, OVERSCAN, ROW_HEIGHT, adjacentHunk, blocksFor, scrollTopFor, scrollTopShowing, topRow, visibleRange } from "./window";

describe("visibleRange", () => {
  it("paints the viewport plus the overscan, clamped to the rows", () => {
    expect(visibleRange(0, 600, 100_000)).toEqual({ start: 0, end: 600 / ROW_HEIGHT + 1 + OVERSCAN });
    const mid = visibleRange(50_000 * ROW_HEIGHT, 600, 100_000);
    expect(mid.start).toBe(50_000 - OVERSCAN);
    expect(mid.end - mid.start).toBe(OVERSCAN + 31 + OVERSCAN);
    const bottom = visibleRange(100_000 * ROW_HEIGHT - 600, 600, 100_000);
    expect(bottom.end).toBe(100_000);
  });
  it("never leaves the rows, whatever the scroll position says", () => {
    expect(visibleRange(-500, 600, 10)).toEqual({ start: 0, end: 10 });
    expect(visibleRange(1e9, 600, 10)).toEqual({ start: 0, end: 10 });
    expect(visibleRange(0, 600, 0)).toEqual({ start: 0, end: 0 });
  });
  it("keeps the painted row count flat however long the file", () => {
    const small = visibleRange(0, 800, 1_000_000);
    const deep = visibleRange(900_000 * ROW_HEIGHT, 800, 1_000_000);
    expect(deep.end - deep.start).toBeLessThanOrEqual(small.end - small.start + OVERSCAN);
  });
  it("takes another row height for the file list", () => {
    expect(visibleRange(300, 300, 1000, 30, 0)).toEqual({ start: 10, end: 21 });
  });
});

describe("blocks", () => {
  it("covers a range with the blocks it touches", () => {
    expect(blocksFor({ start: 0, end: 1 })).toEqual([0]);
    expect(blocksFor({ start: BLOCK - 1, end: BLOCK + 1 })).toEqual([0, 1]);
    expect(blocksFor({ start: 5, end: 5 })).toEqual([]);
  });
  it("keeps the most recently used blocks, at most its limit", () => {
    const cache = new BlockCache<number>(2);
    cache.set(0, [1, 2]);
    cache.set(1, [3, 4]);
    cache.touch(0);
    cache.set(2, [5, 6]);
    expect(cache.has(0)).toBe(true);
    expect(cache.has(1)).toBe(false);
    expect(cache.row(1, 2)).toBe(2);
    expect(cache.row(5, 2)).toBe(6);
    expect(cache.row(2, 2)).toBeUndefined();
  });
});

describe("hunk moves", () => {
  const hunks = [0, 40, 120];
  it("goes to the next and previous hunk from the top row", () => {
    expect(adjacentHunk(hunks, topRow(scrollTopFor(0)), 1)).toBe(40);
    expect(adjacentHunk(hunks, topRow(scrollTopFor(40)), 1)).toBe(120);
    expect(adjacentHunk(hunks, topRow(scrollTopFor(120)), 1)).toBeNull();
    expect(adjacentHunk(hunks, topRow(scrollTopFor(120)), -1)).toBe(40);
    expect(adjacentHunk(hunks, topRow(scrollTopFor(40)), -1)).toBe(0);
    expect(adjacentHunk(hunks, 0, -1)).toBeNull();
  });
});

describe("scrollTopShowing", () => {
  it("leaves a row already in view where it is", () => {
    expect(scrollTopShowing(10, 60, 300, 600)).toBe(300);
    expect(scrollTopShowing(5, 60, 300, 600)).toBe(300);
  });
  it("brings a row above the view to its top edge", () => {
    expect(scrollTopShowing(4, 60, 300, 600)).toBe(240);
    expect(scrollTopShowing(0, 60, 5000, 600)).toBe(0);
  });
  it("brings a row below the view, or cut by its bottom edge, to that edge", () => {
    expect(scrollTopShowing(15, 60, 300, 600)).toBe(360);
    expect(scrollTopShowing(999, 60, 0, 600)).toBe(59_400);
  });
  it("shows the top of a row taller than the view", () => {
    expect(scrollTopShowing(3, 800, 0, 600)).toBe(2400);
  });
});
