import { describe, expect, it } from "vitest";
import type { InboxItem } from "../ipc";
import { placeOf } from "./place";

const base: Omit<InboxItem, "event"> = {
  spec_id: "s1" as InboxItem["spec_id"],
  seq: 3,
  n: 0,
  at: 0,
  actor: "carlos@wedge.io",
  actor_name: "Carlos",
  text: "",
  quote: null,
  local_time: "Sat 03:05",
  sender_time: null,
  unread: true,
  handoff: true,
};

describe("placeOf", () => {
  it("opens a delivery or a review on its revision", () => {
    const delivered = { ...base, event: { kind: "revision_delivered", deliverable_id: "d", revision_id: "r2", number: 2 } } as InboxItem;
    expect(placeOf(delivered)).toEqual({ revision_id: "r2", selector: null });
    const reviewed = { ...base, event: { kind: "review_published", review_id: "v", revision_id: "r1", number: 1, verdict: "approve" } } as InboxItem;
    expect(placeOf(reviewed).revision_id).toBe("r1");
  });
  it("scrolls to a thread, a criterion or the spec", () => {
    const reply = { ...base, event: { kind: "replied", thread_id: "t9", comment_id: "c", question: true, thread_author: "x" } } as InboxItem;
    expect(placeOf(reply).selector).toBe('[data-thread-id="t9"]');
    const removed = { ...base, event: { kind: "criteria_changed", criterion_id: "k", change: "removed" } } as InboxItem;
    expect(placeOf(removed).selector).toBeNull();
    const status = { ...base, event: { kind: "status_changed", from: "draft", to: "ready", by_override: false } } as InboxItem;
    expect(placeOf(status).selector).toBe('article.spec[data-spec-id="s1"]');
  });
});
