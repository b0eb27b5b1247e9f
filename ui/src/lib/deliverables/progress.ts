// Words for a folder being stored as a revision. Pure: tested without a DOM.
import type { DeliverProgress } from "../ipc";

/** "Storing files: 1,234 of 20,000 (6%)". */
export function deliverProgressText(p: DeliverProgress): string {
  const n = (x: number) => new Intl.NumberFormat("en-US").format(x);
  if (p.total === 0) return "Reading the folder…";
  const pct = Math.floor((p.stored * 100) / p.total);
  return `Storing files: ${n(p.stored)} of ${n(p.total)} (${pct}%)`;
}
