// How a thread's anchor reads.
import type { Anchor } from "../ipc";
import { sectionLabel } from "../spec/labels";

export function anchorLabel(a: Anchor): string {
  switch (a.kind) {
    case "spec":
      return "Whole spec";
    case "spec_section":
      return sectionLabel(a.section);
    case "deliverable":
      return "Deliverable";
    case "revision_lines":
      return `${a.path}:${a.start_line}${a.end_line !== a.start_line ? `–${a.end_line}` : ""}`;
  }
}
