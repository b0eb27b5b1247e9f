// Global keyboard shortcuts. Keys typed into a field never trigger them.

export type Shortcut =
  | "new-spec"
  | "search"
  | "next"
  | "previous"
  | "escape"
  | "help"
  | "next-file"
  | "previous-file"
  | "next-hunk"
  | "previous-hunk"
  | "toggle-layout"
  | "toggle-whitespace";

export const SHORTCUTS: { key: string; action: Shortcut; label: string }[] = [
  { key: "n", action: "new-spec", label: "New spec" },
  { key: "/", action: "search", label: "Search" },
  { key: "j", action: "next", label: "Next spec" },
  { key: "k", action: "previous", label: "Previous spec" },
  { key: "]", action: "next-file", label: "Diff: next file" },
  { key: "[", action: "previous-file", label: "Diff: previous file" },
  { key: "}", action: "next-hunk", label: "Diff: next change" },
  { key: "{", action: "previous-hunk", label: "Diff: previous change" },
  { key: "s", action: "toggle-layout", label: "Diff: side by side / unified" },
  { key: "w", action: "toggle-whitespace", label: "Diff: ignore white space on / off" },
  { key: "?", action: "help", label: "Keyboard shortcuts" },
  { key: "Escape", action: "escape", label: "Close / leave field" },
];

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest(".cm-editor")) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
}

/** The shortcut a key event means, or `null`. */
export function shortcutFor(e: KeyboardEvent): Shortcut | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (e.key === "Escape") return "escape";
  if (isTyping(e.target)) return null;
  return SHORTCUTS.find((s) => s.key === e.key)?.action ?? null;
}
