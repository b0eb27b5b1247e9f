// Two revisions of real files for the diff scenarios (the whatwg pair, 100k lines; a small
// binary that changes; a file renamed with one line edited; a Latin-1 file), and what the
// diff viewer shows of them.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `../shared/fixtures/diff` beside the repository (as CI lays it out). */
export const FIXTURES = process.env.HANDOFF_DIFF_FIXTURES ?? fileURLToPath(new URL("../../../shared/fixtures/diff/", import.meta.url));

const NOTES = Array.from({ length: 40 }, (_, i) => `Note ${i + 1}: the export streams rows as they are read.`).join("\n") + "\n";

/** Writes revision 1 and 2 as folders; returns their paths. */
export function revisionFolders() {
  const root = mkdtempSync(join(tmpdir(), "handoff-revisions-"));
  const r1 = join(root, "r1");
  const r2 = join(root, "r2");
  for (const d of [r1, r2]) mkdirSync(join(d, "notes"), { recursive: true });
  copyFileSync(join(FIXTURES, "whatwg-source.old-large"), join(r1, "source.html"));
  copyFileSync(join(FIXTURES, "whatwg-source.new"), join(r2, "source.html"));
  writeFileSync(join(r1, "logo.bin"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 4, 5, 6, 7]));
  writeFileSync(join(r2, "logo.bin"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]));
  writeFileSync(join(r1, "notes/export.md"), NOTES);
  writeFileSync(join(r2, "notes/streaming.md"), NOTES.replace("Note 7:", "Note seven:"));
  writeFileSync(join(r1, "latin1.txt"), Buffer.from("caf\xe9 au lait\n", "latin1"));
  writeFileSync(join(r2, "latin1.txt"), Buffer.from("caf\xe9 cr\xe8me\n", "latin1"));
  return { r1, r2 };
}

/**
 * An added line near the top of source.html's first hunk, from the CLI's render model of the
 * same diff (`handoff diff SPEC 1 2 --format json` on `dataDir`): a line the viewer must show.
 */
export function firstAddedLine(cliBin, dataDir, spec, env = process.env) {
  let json;
  try {
    json = execFileSync(cliBin, ["--data-dir", dataDir, "diff", spec, "1", "2", "--format", "json"], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
      env,
    });
  } catch (e) {
    json = e.stdout; // exit code 1: the revisions differ
  }
  const entry = JSON.parse(json).find((f) => f.change.new?.path === "source.html");
  const added = entry.render.hunks[0].rows.slice(0, 30).find((r) => r.kind === "added" && r.new.text.trim().length > 8);
  if (!added) throw new Error("the fixture's first hunk has no added line near its top");
  return added.new.text;
}

/** The diff viewer's file list as shown: path, status, text or binary, and the row's words. */
export function diffFiles(b) {
  return b.execute(() =>
    [...document.querySelectorAll("[data-testid=diff-file]")].map((e) => ({
      path: e.dataset.path,
      status: e.dataset.status,
      content: e.dataset.content,
      text: e.textContent.replace(/\s+/g, " ").trim(),
    })),
  );
}
