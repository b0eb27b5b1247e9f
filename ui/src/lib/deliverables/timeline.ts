// What the revision timeline shows under each revision: its published reviews and the
// review threads anchored to its lines. Pure: tested without a DOM.
import type { Review, RevisionId, Shown, ThreadView } from "../ipc";

/** One revision's reviews (newest first) and line threads (in file and line order). */
export type RevisionFeedback = { reviews: Shown<Review>[]; threads: ThreadView[] };

/** Groups reviews and line-anchored threads by the revision they are about. */
export function feedbackByRevision(reviews: Shown<Review>[], threads: ThreadView[]): Map<RevisionId, RevisionFeedback> {
  const out = new Map<RevisionId, RevisionFeedback>();
  const slot = (id: RevisionId) => {
    let f = out.get(id);
    if (!f) out.set(id, (f = { reviews: [], threads: [] }));
    return f;
  };
  for (const r of reviews) slot(r.revision_id).reviews.push(r);
  for (const t of threads) {
    const a = t.thread.anchor;
    if (a.kind === "revision_lines") slot(a.revision_id).threads.push(t);
  }
  for (const f of out.values()) {
    f.reviews.sort((a, b) => b.published_at - a.published_at);
    f.threads.sort((a, b) => {
      const x = a.thread.anchor;
      const y = b.thread.anchor;
      if (x.kind !== "revision_lines" || y.kind !== "revision_lines") return 0;
      return x.path === y.path ? x.start_line - y.start_line : x.path < y.path ? -1 : 1;
    });
  }
  return out;
}

/** A verdict as a reviewer would say it. */
export const VERDICT_LABEL: Record<Review["verdict"], string> = {
  approve: "Approved",
  request_changes: "Changes requested",
  comment: "Commented",
};
