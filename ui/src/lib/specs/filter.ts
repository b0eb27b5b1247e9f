// Specs list filtering and keyboard selection, kept pure for tests.
import type { SpecStatus, SpecSummary } from "../ipc";

/** Specs with the given status (all when `null`), most recently updated first. */
export function filterSpecs(specs: SpecSummary[], status: SpecStatus | null): SpecSummary[] {
  return specs.filter((s) => status === null || s.status === status).sort((a, b) => b.updated_at - a.updated_at);
}

/** The id `delta` rows away from `current` in `ids`, clamped to the ends. */
export function moveSelection(ids: string[], current: string | null, delta: number): string | null {
  if (ids.length === 0) return null;
  const at = current === null ? -1 : ids.indexOf(current);
  if (at === -1) return delta >= 0 ? (ids[0] ?? null) : (ids[ids.length - 1] ?? null);
  const next = Math.min(ids.length - 1, Math.max(0, at + delta));
  return ids[next] ?? null;
}

/** Splits a search snippet `... [match] ...` into plain and highlighted parts. */
export function snippetParts(snippet: string): { text: string; hit: boolean }[] {
  const parts: { text: string; hit: boolean }[] = [];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  for (let m = re.exec(snippet); m !== null; m = re.exec(snippet)) {
    if (m.index > last) parts.push({ text: snippet.slice(last, m.index), hit: false });
    parts.push({ text: m[1] ?? "", hit: true });
    last = m.index + m[0].length;
  }
  if (last < snippet.length) parts.push({ text: snippet.slice(last), hit: false });
  return parts;
}
