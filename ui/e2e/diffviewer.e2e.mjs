// The diff viewer on the 100k-line whatwg pair, with no server: the `handoff` CLI delivers
// two revisions into the app's data dir (source.html old → new, a small binary changed, a
// file renamed and edited, a Latin-1 file), then the app opens "changes since revision 1"
// from the timeline. Checks the file list (modified, binary with sizes, renamed with
// similarity, non-UTF-8 as binary), a known changed line, syntax colours, side by side, the
// end of the file (coloured once the jump rests), the white-space toggle, and a file-path
// search hit opening the viewer.
import { execFileSync } from "node:child_process";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";
import { diffFiles, firstAddedLine, revisionFolders } from "./revisions.mjs";

const cliBin = process.env.HANDOFF_CLI_BIN;
const dataDir = process.env.HANDOFF_DATA_DIR;
if (!cliBin || !dataDir) throw new Error("HANDOFF_CLI_BIN and HANDOFF_DATA_DIR must be set");
const cli = (...args) => execFileSync(cliBin, ["--data-dir", dataDir, ...args], { encoding: "utf8" }).trim();

/** Delivers the two revisions' folders; returns the spec id and the diff's first added line. */
function seed() {
  const { r1, r2 } = revisionFolders();
  const spec = cli("spec", "new", "--title", "Diff viewer E2E", "--criterion", "Shows the spec source diff");
  cli("spec", "status", spec, "ready", "--override", "handed off for the test");
  cli("deliver", spec, r1, "--note", "the old source");
  cli("deliver", spec, r2, "--note", "the new source");
  return { spec, firstAdded: firstAddedLine(cliBin, dataDir, spec) };
}

const attr = (b, sel, name) => b.execute((s, n) => document.querySelector(s)?.getAttribute(n) ?? null, sel, name);
const files = diffFiles;
const totals = async (b) => {
  const t = (await texts(b, "[data-testid=diff-totals]"))[0] ?? "";
  const m = /\+(\d+)\D+(\d+)/.exec(t.replace(/,/g, ""));
  return m ? { added: Number(m[1]), removed: Number(m[2]) } : null;
};

scenario("diff viewer", async () => {
  const { firstAdded } = seed();
  const b = await startApp();
  try {
    const item = await b.$(`//button[@role="option"][contains(., "Diff viewer E2E")]`);
    await until(b, () => item.isExisting(), "the spec in the list");
    await item.click();
    const link = await b.$("[data-revision='2'] [data-testid=open-diff]");
    await until(b, () => link.isExisting(), "the timeline's link to the changes since revision 1");
    if ((await link.getText()) !== "Changes since revision 1") throw new Error(`link text: ${await link.getText()}`);
    const t0 = Date.now();
    await link.click();
    await until(b, async () => (await files(b)).length === 4, "the file list", 30_000);
    console.log(`file list shown ${Date.now() - t0} ms after the click`);

    const list = await files(b);
    const by = Object.fromEntries(list.map((f) => [f.path, f]));
    const expect = (cond, what) => {
      if (!cond) throw new Error(`${what}: ${JSON.stringify(list)}`);
    };
    expect(by["source.html"]?.status === "modified" && by["source.html"].content === "text", "source.html modified text");
    expect(by["logo.bin"]?.content === "binary", "logo.bin binary");
    expect(by["latin1.txt"]?.content === "binary", "the Latin-1 file shown as binary");
    expect(by["notes/streaming.md"]?.status === "renamed" && /renamed 9\d%/.test(by["notes/streaming.md"].text), "the rename with its similarity");

    // The binary file: sizes and hashes, no rows.
    await (await b.$("[data-testid=diff-file][data-path='logo.bin']")).click();
    const binary = await b.$("[data-testid=diff-binary]");
    await until(b, () => binary.isExisting(), "the binary file's sizes");
    const binText = await binary.getText();
    if (!/12 B/.test(binText) || !/20 B/.test(binText) || !/sha256 [0-9a-f]{64}/.test(binText)) throw new Error(`binary pane: ${binText}`);
    await (await b.$("[data-testid=diff-file][data-path='notes/streaming.md']")).click();
    await until(b, async () => (await texts(b, "[data-testid=diff-file-head]")).some((t) => t.includes("notes/export.md → notes/streaming.md")), "the rename's header");

    // source.html: its first added line is on screen, rows painted.
    const t1 = Date.now();
    await (await b.$("[data-testid=diff-file][data-path='source.html']")).click();
    await until(
      b,
      async () => (await texts(b, "[data-testid=diff-row][data-kind=added]")).some((t) => t.includes(firstAdded.trim())),
      `the known added line ${JSON.stringify(firstAdded)}`,
      30_000,
    );
    console.log(`source.html rows painted ${Date.now() - t1} ms after the click`);
    const coloured = () => b.execute(() => document.querySelectorAll("[data-testid=diff-scroll] [class*=tok-]").length);
    await until(b, async () => (await coloured()) > 0, "syntax colours at the top", 30_000);
    const total = Number(await attr(b, "[data-testid=diff-scroll]", "data-total-rows"));
    if (!(total > 1000)) throw new Error(`source.html has ${total} rows`);

    // Side by side: changed rows pair old and new.
    await (await b.$("[data-testid=layout-split]")).click();
    await until(b, async () => (await attr(b, "[data-testid=diff-scroll]", "data-layout")) === "split", "the side-by-side layout");
    await until(b, async () => Number(await attr(b, "[data-testid=diff-scroll]", "data-rows-painted")) > 0, "side-by-side rows");
    const splitTotal = Number(await attr(b, "[data-testid=diff-scroll]", "data-total-rows"));
    if (!(splitTotal < total)) throw new Error(`split rows ${splitTotal} should be fewer than unified ${total}`);

    // The end of the file.
    await b.execute(() => {
      const s = document.querySelector("[data-testid=diff-scroll]");
      if (s) s.scrollTop = s.scrollHeight;
    });
    await until(b, async () => (await b.$(`[data-testid=diff-row][data-row='${splitTotal - 1}']`)).isExisting(), "the last row", 15_000);
    // A jump of many screens builds rows without colours; they come once the scroll rests.
    await until(b, async () => (await coloured()) > 0, "syntax colours at the end, once the jump has rested", 30_000);

    // Ignoring white space can only shrink the counts, and keeps the file open.
    const before = await totals(b);
    await (await b.$("[data-testid=ignore-whitespace]")).click();
    await until(b, async () => (await b.$("[data-testid=ignore-whitespace]")).isSelected(), "the white-space toggle");
    await until(b, async () => {
      const after = await totals(b);
      return after && before && JSON.stringify(after) !== JSON.stringify(before);
    }, "the counts without white-space changes", 30_000);
    const after = await totals(b);
    if (!(after.added <= before.added && after.removed <= before.removed)) throw new Error(`counts ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    await until(b, async () => Number(await attr(b, "[data-testid=diff-scroll]", "data-rows-painted")) > 0, "rows after the toggle", 30_000);

    // A search hit on a file path opens that file in the viewer.
    await (await b.$("input[type=search].search")).setValue("streaming");
    const hit = await b.$("//ul[@aria-label='Search results']//button[contains(., 'file')]");
    await until(b, () => hit.isExisting(), "a file search hit");
    await hit.click();
    await until(
      b,
      async () => (await texts(b, "[data-testid=diff-file-head]")).some((t) => t.includes("notes/streaming.md")),
      "the viewer on the hit's file",
      15_000,
    );
  } catch (e) {
    const shown = await b.execute(() => document.querySelector("[data-testid=diff-viewer]")?.innerText ?? document.body.innerText).catch(() => "");
    throw new Error(`${e.message}\n--- the viewer showed:\n${String(shown).slice(0, 3000)}`);
  } finally {
    await stop(b);
  }
});
