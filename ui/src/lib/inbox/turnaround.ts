// Drawing turnaround: bar lengths and each kind's colour class.
import type { TurnKind } from "../ipc";

/** The CSS class of each kind's bars and swatches. */
export const KIND_CLASS: Record<TurnKind, string> = {
  question_to_answer: "question",
  delivery_to_review: "delivery",
  review_to_revision: "revision",
};

/** Each value as a percentage of the largest (0 when all are 0), so the slowest fills the track. */
export function barWidths(values: number[]): number[] {
  const max = Math.max(0, ...values);
  return values.map((v) => (max > 0 ? Math.round((Math.max(0, v) / max) * 1000) / 10 : 0));
}
