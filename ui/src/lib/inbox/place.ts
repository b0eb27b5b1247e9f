// Where an inbox item happened: the revision to open in the diff viewer, and what to scroll
// to on the spec.
import type { InboxItem, RevisionId } from "../ipc";

export type Place = { revision_id: RevisionId | null; selector: string | null };

/** A delivery or a review opens its revision's changes; a thread or reply its thread; a criterion its row; anything else the spec. */
export function placeOf(item: InboxItem): Place {
  const e = item.event;
  switch (e.kind) {
    case "revision_delivered":
    case "review_published":
      return { revision_id: e.revision_id, selector: null };
    case "thread_opened":
    case "replied":
      return { revision_id: null, selector: `[data-thread-id="${e.thread_id}"]` };
    case "criteria_changed":
      return { revision_id: null, selector: e.change === "removed" ? null : `[data-criterion-id="${e.criterion_id}"]` };
    default:
      return { revision_id: null, selector: `article.spec[data-spec-id="${item.spec_id}"]` };
  }
}
