import { describe, expect, it } from "vitest";
import type { DiffFile } from "../ipc";
import { adjacentFile, filterFiles, modeLabel, statusLabel } from "./files";
import { expand } from "./expand";
import { fileHit } from "./route.svelte";

function file(path: string, over: Partial<DiffFile> = {}): DiffFile {
  const side = { path, size: 10, sha256: "ab", executable: false };
  return { path, status: "modified", similarity: null, content: "text", added: 1, removed: 1, mode_changed: false, old: side, new: side, ...over };
}

describe("file filter", () => {
  const files = [
    file("src/main.rs"),
    file("docs/Guide.md"),
    file("src/new_name.rs", { status: "renamed", similarity: 87, old: { path: "src/old_name.rs", size: 1, sha256: "x", executable: false } }),
  ];
  it("matches every word, ignoring case, on new and old paths", () => {
    expect(filterFiles(files, "")).toEqual([0, 1, 2]);
    expect(filterFiles(files, "GUIDE")).toEqual([1]);
    expect(filterFiles(files, "src rs")).toEqual([0, 2]);
    expect(filterFiles(files, "old_name")).toEqual([2]);
    expect(filterFiles(files, "nothing")).toEqual([]);
  });
  it("filters a 20,000-file list", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => file(`pkg${i % 100}/file${i}.ts`));
    expect(filterFiles(many, "pkg99/ file19999")).toEqual([19_999]);
    expect(filterFiles(many, "pkg42/").length).toBe(200);
  });
  it("moves between shown files and wraps", () => {
    expect(adjacentFile([2, 5, 9], 5, 1)).toBe(9);
    expect(adjacentFile([2, 5, 9], 9, 1)).toBe(2);
    expect(adjacentFile([2, 5, 9], 2, -1)).toBe(9);
    expect(adjacentFile([2, 5, 9], null, 1)).toBe(2);
    expect(adjacentFile([2, 5, 9], 7, -1)).toBe(9);
    expect(adjacentFile([], 1, 1)).toBeNull();
  });
  it("labels renames with their similarity and mode changes", () => {
    expect(statusLabel(files[2] as DiffFile)).toBe("renamed 87%");
    expect(statusLabel(file("a", { status: "renamed", similarity: 100 }))).toBe("renamed");
    expect(modeLabel(file("run.sh", { mode_changed: true, new: { path: "run.sh", size: 1, sha256: "x", executable: true } }))).toBe("mode +x");
    expect(modeLabel(files[0] as DiffFile)).toBeNull();
  });
});

describe("context expansion", () => {
  it("reveals from the top, the bottom, or all of a gap, never more than it holds", () => {
    let ex = expand([], [50, 30], 0, "bottom", 20);
    expect(ex).toEqual([{ gap: 0, top: 0, bottom: 20 }]);
    ex = expand(ex, [50, 30], 0, "top", 20);
    expect(ex).toEqual([{ gap: 0, top: 20, bottom: 20 }]);
    ex = expand(ex, [50, 30], 0, "bottom", 20);
    expect(ex).toEqual([{ gap: 0, top: 20, bottom: 30 }]);
    ex = expand(ex, [50, 30], 1, "all");
    expect(ex).toEqual([
      { gap: 0, top: 20, bottom: 30 },
      { gap: 1, top: 30, bottom: 0 },
    ]);
  });
});

describe("file search hits", () => {
  it("split into revision and path", () => {
    expect(fileHit("0190-aa/src/a b.rs")).toEqual({ revision_id: "0190-aa", path: "src/a b.rs" });
    expect(fileHit("no-slash")).toBeNull();
    expect(fileHit("/x")).toBeNull();
  });
});
