// Which diff the main area shows, if any. The revision timeline, search results and the
// shell open it; the shell renders the viewer while it is set.
import type { RevisionId, SpecId } from "../ipc";

/** What to open: a pair by number, or a revision (its changes since the previous one) by id. */
export type DiffTarget = {
  spec_id: SpecId;
  from?: number;
  to?: number;
  /** Resolved to `to` (with `from` the revision before it) when the numbers are not given. */
  revision_id?: RevisionId;
  /** The file to show first. */
  path?: string;
};

export const diffRoute = $state<{ current: DiffTarget | null }>({ current: null });

export function openDiff(target: DiffTarget): void {
  diffRoute.current = target;
}

export function closeDiff(): void {
  diffRoute.current = null;
}

/** Splits a file search hit's `ref_id` (`<revision id>/<path>`) into its parts. */
export function fileHit(refId: string): { revision_id: RevisionId; path: string } | null {
  const slash = refId.indexOf("/");
  if (slash <= 0 || slash === refId.length - 1) return null;
  return { revision_id: refId.slice(0, slash) as RevisionId, path: refId.slice(slash + 1) };
}
