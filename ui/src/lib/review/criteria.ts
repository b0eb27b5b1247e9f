// The review composer's criterion rows as the reviewer fills them, turned into what
// `publish_review` takes. Pure: tested without a DOM.
import type { AcceptanceStatus, CriterionInput, Evidence, Verdict } from "../ipc";

/** A verdict as the reviewer chooses it. */
export const VERDICT_ACTION: Record<Verdict, string> = {
  approve: "Approve",
  request_changes: "Request changes",
  comment: "Comment",
};

/** One criterion row of the composer, as typed. */
export type CriterionRow = { status: AcceptanceStatus; note: string; evidencePath: string; evidenceLines: string };

/** A status as the reviewer reads it. */
export const STATUS_TEXT: Record<AcceptanceStatus, string> = {
  unchecked: "Not checked",
  met: "Met",
  not_met: "Not met",
  not_applicable: "Not applicable",
};

/** The ledger's short mark for a status. */
export const STATUS_MARK: Record<AcceptanceStatus, string> = {
  unchecked: "·",
  met: "✓",
  not_met: "✗",
  not_applicable: "n/a",
};

export function emptyRow(): CriterionRow {
  return { status: "unchecked", note: "", evidencePath: "", evidenceLines: "" };
}

/** "12" or "12-30" (en dash too) as a 1-based inclusive range; null when it is not one. */
export function parseLines(text: string): { start: number; end: number } | null {
  const m = /^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*$/.exec(text);
  if (!m) return null;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  return start >= 1 && end >= start ? { start, end } : null;
}

/**
 * The rows as CriterionInput (positions from 1); unchecked rows without a note are left out.
 * Throws a sentence naming the criterion when evidence is half given or its lines are not a
 * range, so nothing is published with a link that points nowhere.
 */
export function criterionInputs(rows: CriterionRow[]): CriterionInput[] {
  const out: CriterionInput[] = [];
  rows.forEach((r, i) => {
    const position = i + 1;
    const path = r.evidencePath.trim();
    const linesText = r.evidenceLines.trim();
    let evidence: Evidence | null = null;
    if (path || linesText) {
      const lines = parseLines(linesText);
      if (!path || !lines) {
        throw new Error(`Criterion ${position}: evidence needs a file and lines like 10-20.`);
      }
      evidence = { path, start_line: lines.start, end_line: lines.end };
    }
    if (r.status === "unchecked" && !r.note.trim() && !evidence) return;
    out.push({ position, status: r.status, note: r.note.trim(), evidence });
  });
  return out;
}
