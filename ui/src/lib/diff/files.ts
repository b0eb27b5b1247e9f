// The viewer's file list: filtering, labels, and moving between files. Pure.
import type { DiffFile } from "../ipc";

/** Indices of the files whose path (or old path) contains every word of the query, case-insensitive. */
export function filterFiles(files: DiffFile[], query: string): number[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const out: number[] = [];
  files.forEach((f, i) => {
    if (words.length === 0) return void out.push(i);
    const hay = (f.old && f.old.path !== f.path ? `${f.old.path} ${f.path}` : f.path).toLowerCase();
    if (words.every((w) => hay.includes(w))) out.push(i);
  });
  return out;
}

/** The file after (`dir` 1) or before (`dir` -1) `current` among the shown ones; wraps at the ends. */
export function adjacentFile(shown: number[], current: number | null, dir: 1 | -1): number | null {
  if (shown.length === 0) return null;
  const at = current === null ? -1 : shown.indexOf(current);
  if (at === -1) return dir === 1 ? (shown[0] ?? null) : (shown[shown.length - 1] ?? null);
  return shown[(at + dir + shown.length) % shown.length] ?? null;
}

/** A short status word, as the list shows it. */
export function statusLabel(f: DiffFile): string {
  switch (f.status) {
    case "renamed":
      return f.similarity !== null && f.similarity < 100 ? `renamed ${f.similarity}%` : "renamed";
    default:
      return f.status;
  }
}

/** The letter badge of a status. */
export const STATUS_LETTER: Record<DiffFile["status"], string> = { added: "A", removed: "D", modified: "M", renamed: "R" };

/** What changed about the mode, if it did: "mode +x" or "mode −x". */
export function modeLabel(f: DiffFile): string | null {
  if (!f.mode_changed) return null;
  return f.new?.executable ? "mode +x" : "mode −x";
}
