// Revealing hidden context: the list of gap expansions sent with every row request. Pure.
import type { GapExpansion } from "../ipc";

/**
 * The expansions after revealing `by` more lines of gap `gap` from its top (below the change
 * above), its bottom (above the change below), or all of it. `gaps` are the gaps' sizes.
 */
export function expand(
  current: GapExpansion[],
  gaps: number[],
  gap: number,
  how: "top" | "bottom" | "all",
  by = 20,
): GapExpansion[] {
  const size = gaps[gap] ?? 0;
  const was = current.find((e) => e.gap === gap) ?? { gap, top: 0, bottom: 0 };
  const next =
    how === "all"
      ? { gap, top: size, bottom: 0 }
      : how === "top"
        ? { gap, top: Math.min(size, was.top + by), bottom: was.bottom }
        : { gap, top: was.top, bottom: Math.min(size - was.top, was.bottom + by) };
  return [...current.filter((e) => e.gap !== gap), next].sort((a, b) => a.gap - b.gap);
}
