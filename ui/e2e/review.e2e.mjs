// Reviewing, two people on two machines: a contractor (CLI) delivers two revisions to a real
// server; the reviewer (the real app) opens the diff, comments on a range on the new side and
// on one line of the old side, restarts the app (the drafts are kept), and publishes a review
// with a verdict and criterion statuses while the server is down. Once it is back, the
// contractor sees the review and its threads together; delivers r3 changing the commented
// lines and claiming one thread; the app shows one thread outdated with its excerpt and one
// claimed, and the reviewer confirms the claim, which the contractor sees in the history.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";
import { cli, freePort, invite, joinInApp, startServer, stopServer, tempDir, untilBar } from "./server.mjs";

const TITLE = "Stream the CSV export";
const NOTES = Array.from({ length: 40 }, (_, i) => `Note ${i + 1}: the export streams rows as they are read.`);

function folder(name, lines, readme) {
  const dir = join(mkdtempSync(join(tmpdir(), "handoff-review-")), name);
  mkdirSync(join(dir, "notes"), { recursive: true });
  writeFileSync(join(dir, "notes/export.md"), lines.join("\n") + "\n");
  writeFileSync(join(dir, "README.md"), readme);
  return dir;
}

const json = (dir, args) => JSON.parse(cli(dir, ["--json", ...args]));

async function click(b, selector, what) {
  const el = await b.$(selector);
  await until(b, () => el.isExisting(), what, 20_000);
  await el.scrollIntoView({ block: "center" });
  await el.click();
}

async function openSpec(b) {
  const item = await b.$(`//ul[@aria-label="Specs"]//button[contains(., "${TITLE}")]`);
  await until(b, () => item.isExisting(), "the spec in the list", 30_000);
  await item.click();
  await until(b, async () => (await texts(b, "article.spec h1")).some((t) => t.startsWith(TITLE)), "the spec view");
}

/** Picks lines in the open diff (a click, then Shift+Enter on the last) and drafts a comment. */
async function comment(b, side, first, last, text) {
  await click(b, `[data-testid=line-${side}-${first}]`, `${side} line ${first} in the diff`);
  if (last !== first) {
    // The keyboard path: Shift+Enter on a focused line number extends the range.
    await b.execute((sel) => {
      const el = document.querySelector(sel);
      el?.focus();
      el?.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    }, `[data-testid=line-${side}-${last}]`);
  }
  const form = await b.$("[data-testid=line-comment-form]");
  await until(b, () => form.isExisting(), "the line comment form");
  const want = first === last ? `line ${first} (${side} side)` : `lines ${first}–${last} (${side} side)`;
  await until(b, async () => (await form.getText()).includes(want), `the form naming ${want}`);
  await (await form.$("textarea")).setValue(text);
  await (await form.$("[data-testid=add-draft]")).click();
  await until(b, async () => !(await form.isExisting()), "the comment kept as a draft");
}

scenario("a review drafted in the app, published offline, reaches the contractor whole; a claim is confirmed", async () => {
  const serverDir = tempDir("server");
  const port = await freePort();
  let server = await startServer(serverDir, port);
  let b = null;
  try {
    const owner = tempDir("owner");
    const contractor = tempDir("contractor");
    const join = (dir, email, name, role) =>
      cli(dir, ["join", "--server", server.url, "--invite", invite(serverDir, email, role), "--email", email, "--name", name]);
    join(owner, "ana@example.com", "Ana", "owner");
    join(contractor, "cole@example.com", "Cole", "contractor");
    const spec = cli(owner, ["spec", "new", "--title", TITLE, "--criterion", "Streams rows", "--criterion", "Quotes commas"]).trim();
    cli(owner, ["spec", "assign", spec, "cole@example.com"]);
    cli(owner, ["spec", "status", spec, "ready", "--override", "handed off for the test"]);
    cli(owner, ["sync"]);
    cli(contractor, ["sync"]);
    cli(contractor, ["spec", "status", spec, "in_progress"]);
    const r2lines = NOTES.map((l, i) => (i === 6 ? "Note seven: rows stream in pages of 500." : l));
    cli(contractor, ["deliver", spec, folder("r1", NOTES, "Build with make.\n"), "--note", "first cut"]);
    cli(contractor, ["deliver", spec, folder("r2", r2lines, "Build with make.\n"), "--note", "paging"]);
    cli(contractor, ["spec", "status", spec, "delivered"]);
    cli(contractor, ["sync"]);

    b = await startApp();
    await joinInApp(b, server.url, invite(serverDir, "ben@example.com", "reviewer"), "ben@example.com", "Ben");
    await openSpec(b);
    await click(b, "[data-revision='2'] [data-testid=open-diff]", "the link to the changes since revision 1");
    await click(b, "[data-testid=diff-file][data-path='notes/export.md']", "notes/export.md in the file list");
    await until(b, async () => (await texts(b, "[data-testid=diff-row]")).some((t) => t.includes("pages of 500")), "the changed line", 30_000);
    await comment(b, "new", 7, 9, "Why 500? Say where the page size comes from.");
    await comment(b, "old", 7, 7, "The old wording was clearer.");
    await until(b, async () => (await texts(b, "[data-testid=viewer-review]")).some((t) => t.includes("2 drafts")), "Review (2 drafts)");

    // Restart the app: the drafts are on disk.
    await stop(b);
    b = await startApp();
    await openSpec(b);
    await until(b, async () => (await texts(b, "[data-testid=open-review]")).some((t) => t.includes("2 drafts")), "the drafts after a restart", 20_000);

    // The server goes away; the review is published offline.
    await stopServer(server);
    server = null;
    await click(b, "[data-testid=open-review]", "the Review button");
    const composer = await b.$("[data-testid=review-composer]");
    await until(b, async () => (await composer.$$("[data-testid=draft]")).length === 2, "both drafts in the composer");
    await (await composer.$("input[value=request_changes]")).click();
    await (await composer.$("textarea[aria-label='Review summary']")).setValue("Close; the page size needs a reason.");
    await (await composer.$("select[aria-label='Status of criterion 1']")).selectByAttribute("value", "met");
    await (await composer.$("select[aria-label='Status of criterion 2']")).selectByAttribute("value", "not_met");
    await (await composer.$("input[aria-label='Note on criterion 2']")).setValue("commas in a note field break the row");
    await (await composer.$("[data-testid=publish-review]")).click();
    await until(b, () => b.$("[data-testid=review-published]").isExisting(), "the review published (queued)");
    await untilBar(b, (s) => s.pending !== null && s.pending >= 1, "the review waiting to be sent");

    server = await startServer(serverDir, port);
    await untilBar(b, (s) => s.pending === null || s.pending === 0, "the review sent once the server is back", 90_000);
    cli(contractor, ["sync"]);
    const seen = json(contractor, ["spec", "show", spec]);
    const review = seen.reviews[0];
    if (!review || review.verdict !== "request_changes" || review.threads.length !== 2) throw new Error(`the contractor's review: ${JSON.stringify(review)}`);
    for (const id of review.threads) {
      const t = seen.threads.find((x) => x.thread.id === id);
      if (!t || t.comments.length !== 1) throw new Error(`the review's thread ${id} arrived without its comment: ${JSON.stringify(seen.threads)}`);
    }
    const range = seen.threads.find((t) => t.thread.anchor.side === "new");
    console.log(`the contractor sees the review with its ${review.threads.length} threads`);

    // The owner moves the spec along; r3 changes the commented lines and claims the range thread.
    cli(owner, ["sync"]);
    cli(owner, ["spec", "status", spec, "in_review"]);
    cli(owner, ["spec", "status", spec, "changes_requested"]);
    cli(owner, ["sync"]);
    cli(contractor, ["sync"]);
    cli(contractor, ["spec", "status", spec, "in_progress"]);
    const r3lines = r2lines.map((l, i) => (i === 7 ? "Note 8: the page size is the server's MAX_PULL_LIMIT." : l));
    cli(contractor, ["deliver", spec, folder("r3", r3lines, "Build with make.\n"), "--note", "explained", "--addresses", range.thread.id]);
    cli(contractor, ["spec", "status", spec, "delivered"]);
    cli(contractor, ["sync"]);

    await click(b, "button=Sync now", "Sync now");
    await until(b, async () => (await texts(b, "[data-testid=claimed]")).some((t) => t.includes("Addressed in r3 (claimed)")), "the claimed thread", 90_000);
    await click(b, "[data-revision='3'] [data-testid=open-diff]", "the link to the changes since revision 2");
    await click(b, "[data-testid=diff-file][data-path='notes/export.md']", "notes/export.md");
    await until(
      b,
      async () => (await b.execute(() => [...document.querySelectorAll("[data-testid=placed-thread][data-state=outdated]")].length)) >= 1,
      "an outdated thread on the file",
      30_000,
    );
    const outdated = await texts(b, "[data-testid=placed-thread][data-state=outdated] pre");
    if (!outdated.some((t) => t.includes("pages of 500"))) throw new Error(`the outdated thread's excerpt: ${JSON.stringify(outdated)}`);
    await click(b, `//section[@data-testid="diff-viewer"]//button[starts-with(., "← ")]`, "back to the spec");
    await click(b, "[data-testid=confirm-claim]", "Confirm on the claimed thread");
    await until(b, async () => (await texts(b, "[data-testid=claimed]")).length === 0, "the claim confirmed in the app");
    // Evidence at the contractor, not the sync bar's count (it may not have counted the write yet).
    let after = null;
    await until(
      b,
      async () => {
        cli(contractor, ["sync"]);
        after = json(contractor, ["spec", "show", spec]).threads.find((t) => t.thread.id === range.thread.id);
        return after?.thread.resolved === true;
      },
      "the confirmation at the contractor",
      60_000,
    ).catch(() => {});
    const kinds = after.history.map((h) => h.kind).join(",");
    if (!after.thread.resolved || kinds !== "claim,resolve") throw new Error(`the claimed thread at the contractor: ${JSON.stringify(after)}`);
  } catch (e) {
    if (server) console.error(`server log: ${server.log()}`);
    if (b) console.error(`alerts: ${JSON.stringify(await texts(b, "[role=alert]"))}`);
    throw e;
  } finally {
    if (b) await stop(b);
    if (server) await stopServer(server);
  }
});
