// Display names for domain values.
import type { SectionKind, SpecStatus } from "../ipc";

export const STATUS_LABEL: Record<SpecStatus, string> = {
  draft: "Draft",
  ready: "Ready",
  in_progress: "In progress",
  delivered: "Delivered",
  in_review: "In review",
  changes_requested: "Changes requested",
  accepted: "Accepted",
  closed: "Closed",
};

export const ALL_STATUSES = Object.keys(STATUS_LABEL) as SpecStatus[];

export const SECTIONS: { kind: SectionKind; label: string; hint: string }[] = [
  { kind: "system_context", label: "System context", hint: "What someone new needs to know about the system" },
  { kind: "api_shape", label: "API shape", hint: "The interface to build or change" },
  { kind: "out_of_scope", label: "Out of scope", hint: "What is deliberately not part of this work" },
  { kind: "notes", label: "Notes", hint: "Anything else, including open questions" },
];

export function sectionLabel(kind: SectionKind): string {
  return SECTIONS.find((s) => s.kind === kind)?.label ?? kind;
}
