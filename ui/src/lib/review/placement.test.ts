import { describe, expect, it } from "vitest";
import { cardsAt, elsewhere, markedLines, pick, placementLabel, threadAt } from "./placement";
import type { PlacedThread } from "../ipc";

const placed: PlacedThread[] = [
  { thread_id: "a", made_on: 2, placement: { state: "current", path: "src/a.rs", side: "new", start: 3, end: 5 } },
  { thread_id: "b", made_on: 1, placement: { state: "outdated", path: "src/old.rs", side: "old", lines: [7, 7], excerpt: "x\n" } },
  { thread_id: "c", made_on: 1, placement: { state: "file_removed", path: "gone.md", excerpt: "y\n" } },
  { thread_id: "d", made_on: 4, placement: { state: "later", path: "src/a.rs", excerpt: "z\n" } },
];

describe("placement", () => {
  it("picks a line, extends on the same side with Shift, and starts over elsewhere", () => {
    const one = pick(null, "new", 9, false);
    expect(one).toEqual({ side: "new", start: 9, end: 9 });
    expect(pick(one, "new", 4, true)).toEqual({ side: "new", start: 4, end: 9 });
    expect(pick(one, "old", 4, true)).toEqual({ side: "old", start: 4, end: 4 });
    expect(pick(one, "new", 12, false)).toEqual({ side: "new", start: 12, end: 12 });
  });

  it("marks the last line of each thread on the open file, following its old path", () => {
    const m = markedLines(placed, "src/a.rs", "src/old.rs");
    expect([...m.new]).toEqual([5]);
    expect([...m.old]).toEqual([7]);
    expect(threadAt(placed, "new", 5)).toBe("a");
    expect(threadAt(placed, "old", 7)).toBe("b");
    expect(threadAt(placed, "new", 4)).toBeNull();
  });

  it("lists threads on removed files and later revisions apart, never dropping them", () => {
    const e = elsewhere(placed);
    expect(e.removed.map((p) => p.thread_id)).toEqual(["c"]);
    expect(e.later.map((p) => p.thread_id)).toEqual(["d"]);
    expect(placementLabel(placed[1]!)).toBe("src/old.rs, near line 7 · made on revision 1");
  });

  it("groups the open file's threads and drafts by the line their card follows", () => {
    const draft = {
      id: "d1",
      spec_id: "s",
      revision_id: "r3",
      revision_number: 3,
      thread_id: null,
      anchor: { kind: "revision_lines" as const, revision_id: "r3", path: "src/a.rs", start_line: 4, end_line: 5, side: "new" as const, excerpt: "" },
      body: "x",
      created_at: 1,
      updated_at: 1,
    };
    expect(cardsAt(placed, [draft], "src/a.rs", "src/old.rs")).toEqual([
      { side: "new", line: 5, ids: ["a", "d1"], height: 10 },
      { side: "old", line: 7, ids: ["b"], height: 5 },
    ]);
  });
});
