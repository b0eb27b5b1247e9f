// Test data for the deliverable tests (imported by *.test.ts only).
import type { Review, Shown, ThreadView } from "../ipc";

export const SPEC = "0190e0e0-0000-7000-8000-000000000001";

export function review(id: string, revision: string, at: number, verdict: Review["verdict"] = "request_changes"): Shown<Review> {
  return {
    id,
    revision_id: revision,
    spec_id: SPEC,
    reviewer: "rev@example.com",
    verdict,
    summary: `review ${id}`,
    criteria: [],
    threads: [],
    replies: [],
    published_at: at,
    received_at: at,
    shown_at: at,
    author_clock_off: false,
  };
}

export function lineThread(id: string, revision: string, path: string, line: number): ThreadView {
  return {
    thread: {
      id,
      spec_id: SPEC,
      anchor: { kind: "revision_lines", revision_id: revision, path, start_line: line, end_line: line, side: "new", excerpt: `line ${line}` },
      resolved: false,
      created_by: "rev@example.com",
      created_at: 1,
      received_at: 1,
    },
    events: 0,
    comments: [
      { id: `${id}-c`, thread_id: id, author: "rev@example.com", body: `about ${path}`, created_at: 1, edited_at: null, redacted: false, received_at: 1, shown_at: 1, author_clock_off: false },
    ],
    history: [],
    claimed_in: null,
    may_resolve: true,
    question: null,
  };
}

