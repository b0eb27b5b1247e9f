import { describe, expect, it } from "vitest";
import { feedbackByRevision } from "./timeline";
import { deliverProgressText } from "./progress";
import type { ThreadView } from "../ipc";
import { SPEC, lineThread, review } from "./fixtures";

describe("feedbackByRevision", () => {
  it("puts reviews (newest first) and line threads (by file, line) under their revision; other threads stay out", () => {
    const section: ThreadView = { ...lineThread("t0", "r1", "x", 1), thread: { ...lineThread("t0", "r1", "x", 1).thread, anchor: { kind: "spec" } } };
    const got = feedbackByRevision(
      [review("a", "r1", 10), review("b", "r1", 20), review("c", "r2", 5)],
      [lineThread("t1", "r1", "src/b.rs", 3), lineThread("t2", "r1", "src/a.rs", 9), lineThread("t3", "r1", "src/a.rs", 2), section],
    );
    expect(got.get("r1")?.reviews.map((r) => r.id)).toEqual(["b", "a"]);
    expect(got.get("r1")?.threads.map((t) => t.thread.id)).toEqual(["t3", "t2", "t1"]);
    expect(got.get("r2")?.threads).toEqual([]);
    expect(got.has("r3")).toBe(false);
  });

  it("reads progress as counts and a percentage", () => {
    expect(deliverProgressText({ spec_id: SPEC, stored: 1234, total: 20000 })).toBe("Storing files: 1,234 of 20,000 (6%)");
    expect(deliverProgressText({ spec_id: SPEC, stored: 0, total: 0 })).toBe("Reading the folder…");
  });
});
