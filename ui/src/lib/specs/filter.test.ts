import { describe, expect, it } from "vitest";
import type { SpecSummary } from "../ipc";
import { filterSpecs, moveSelection, snippetParts } from "./filter";

function spec(id: string, status: SpecSummary["status"], updated_at: number): SpecSummary {
  return {
    id,
    workspace_id: "w",
    title: id,
    status,
    due_date: null,
    updated_at,
    criteria: 0,
    open_threads: 0,
    revisions: 0,
    assignees: [],
    pending_changes: 0,
    readiness: null,
  };
}

describe("filterSpecs", () => {
  const specs = [spec("a", "draft", 1), spec("b", "ready", 3), spec("c", "draft", 2)];
  it("keeps all, newest first, without a filter", () => {
    expect(filterSpecs(specs, null).map((s) => s.id)).toEqual(["b", "c", "a"]);
  });
  it("keeps one status", () => {
    expect(filterSpecs(specs, "draft").map((s) => s.id)).toEqual(["c", "a"]);
  });
});

describe("moveSelection", () => {
  const ids = ["a", "b", "c"];
  it("starts at the ends", () => {
    expect(moveSelection(ids, null, 1)).toBe("a");
    expect(moveSelection(ids, null, -1)).toBe("c");
  });
  it("moves and clamps", () => {
    expect(moveSelection(ids, "a", 1)).toBe("b");
    expect(moveSelection(ids, "c", 1)).toBe("c");
    expect(moveSelection(ids, "a", -1)).toBe("a");
  });
  it("handles an empty list", () => {
    expect(moveSelection([], null, 1)).toBeNull();
  });
});

describe("snippetParts", () => {
  it("marks the bracketed match", () => {
    expect(snippetParts("the [outbox] entry")).toEqual([
      { text: "the ", hit: false },
      { text: "outbox", hit: true },
      { text: " entry", hit: false },
    ]);
  });
});
