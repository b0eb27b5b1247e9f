// Bad input in the real app, with no server: a multi-megabyte paste into a section, the
// title and a reply (each refused with the field and the limit named, the text kept so it can
// be trimmed), a folder that links outside itself (refused, path kept), a folder of 20,000
// files (stored with visible progress while the rest of the app keeps answering), and the due
// date editor (a date that does not exist is refused and kept; a real one is shown in words).
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Key } from "webdriverio";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";

const TITLE = "E2E bad input";
const FILES = 20_000;
const MB = 1024 * 1024;

/** The text of the first `[role=alert]` inside `scope`, once there is one. */
async function alertIn(b, scope, what, timeout = 20_000) {
  let got = [];
  await until(
    b,
    async () => {
      got = await texts(b, `${scope} [role=alert]`);
      return got.length > 0;
    },
    what,
    timeout,
  );
  return got[0];
}

/** Pastes `text` (built in the page: `size` bytes of `line`, ending in `tail`) as a real paste event. */
async function pasteInto(b, selector, line, size, tail) {
  return b.execute(
    (sel, l, n, t) => {
      const el = document.querySelector(sel);
      if (!el) return "no element";
      el.focus();
      const text = l.repeat(Math.floor(n / l.length)) + t;
      const dt = new DataTransfer();
      dt.setData("text/plain", text);
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
      return text.length;
    },
    selector,
    line,
    size,
    tail,
  );
}

/** Types `text` (`size` bytes of `line`) into a focused input or textarea the way a paste lands. */
async function insertInto(b, selector, line, size) {
  return b.execute(
    (sel, l, n) => {
      const el = document.querySelector(sel);
      if (!el) return "no element";
      el.focus();
      const text = l.repeat(Math.floor(n / l.length));
      if (!document.execCommand("insertText", false, text)) {
        el.value = text;
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }
      return el.value.length;
    },
    selector,
    line,
    size,
  );
}

function folderOf(n) {
  const dir = mkdtempSync(join(tmpdir(), "handoff-e2e-folder-"));
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `part${String(Math.floor(i / 500)).padStart(2, "0")}`);
    if (i % 500 === 0) mkdirSync(sub);
    writeFileSync(join(sub, `file${String(i).padStart(5, "0")}.txt`), `file ${i}\n`);
  }
  return dir;
}

scenario("bad input keeps what was typed; 20,000 files deliver with progress", async () => {
  const b = await startApp();
  try {
    await (await b.$("button=New spec")).click();
    const title = await b.$("input[name=title]");
    await until(b, () => title.isExisting(), "the new spec form");
    await title.setValue(TITLE);
    await (await b.$("button=Create spec")).click();
    await until(b, async () => (await texts(b, "article.spec h1")).some((t) => t.startsWith(TITLE)), "the spec view");

    // (a) A 3 MB paste into a section: refused, named, kept; trimmed, it saves.
    await (await b.$("button[aria-label='Edit System context']")).click();
    const cm = "section[data-section=system_context] .cm-content";
    await until(b, () => b.$(cm).isExisting(), "the section editor");
    const pasted = await pasteInto(b, cm, "a line of a pasted log file, long enough to matter\n", 3 * MB, "END-OF-PASTE");
    if (typeof pasted !== "number" || pasted < 3 * MB - 100) throw new Error(`paste into the section: ${pasted}`);
    await (await b.$("section[data-section=system_context]").$("button=Save")).click();
    const sectionError = await alertIn(b, "section[data-section=system_context]", "the section limit error");
    if (!/^System context is too long: 3 MB; the limit is 256 KB\./.test(sectionError)) throw new Error(`section error: ${sectionError}`);
    // Still all there: the end of the paste is in the editor.
    await (await b.$(cm)).click();
    await b.keys([Key.Ctrl, Key.End]);
    await until(b, async () => (await texts(b, cm)).join("").includes("END-OF-PASTE"), "the end of the paste in the editor");
    // Trim it: select all, type a short text, save. (No doubled letters: WebKitWebDriver
    // drops the second of two equal keys in a row.)
    await b.keys([Key.Ctrl, "a"]);
    await b.keys("Cut down to the point");
    await until(b, async () => (await texts(b, cm)).join("") === "Cut down to the point", "the trimmed text").catch(async (e) => {
      const t = (await texts(b, cm)).join("");
      throw new Error(`${e.message}; the editor holds ${t.length} characters: ${JSON.stringify(t.slice(0, 80))}…${JSON.stringify(t.slice(-80))}`);
    });
    await (await b.$("section[data-section=system_context]").$("button=Save")).click();
    await until(
      b,
      async () => (await texts(b, "section[data-section=system_context] .markdown")).join("") === "Cut down to the point",
      "the trimmed section saved",
    );

    // A 2 MB paste into the title.
    await (await b.$("button[aria-label=Rename]")).click();
    const titleInput = "article.spec form.title-form input";
    await until(b, () => b.$(titleInput).isExisting(), "the title field");
    await b.execute((sel) => {
      const el = document.querySelector(sel);
      el.select();
    }, titleInput);
    const titleLen = await insertInto(b, titleInput, "title ", 2 * MB);
    // WebKit keeps at most 524,288 characters in an <input>: still far over the limit.
    if (typeof titleLen !== "number" || titleLen < 500_000) throw new Error(`paste into the title: ${titleLen}`);
    await (await b.$("article.spec form.title-form").$("button=Save")).click();
    const titleError = await alertIn(b, "article.spec header.spec-head", "the title limit error");
    if (!/^The title is too long: \d{3},\d{3} characters; the limit is 200 characters\./.test(titleError)) throw new Error(`title error: ${titleError}`);
    const keptTitle = await b.execute((sel) => document.querySelector(sel)?.value.length ?? -1, titleInput);
    if (keptTitle !== titleLen) throw new Error(`the title field holds ${keptTitle} characters after the error, not ${titleLen}`);
    await (await b.$("article.spec form.title-form").$("button=Cancel")).click();

    // A 1 MB paste into a reply.
    await (await b.$("textarea[aria-label='New question']")).setValue("Is a header row expected?");
    await (await b.$("button=Ask")).click();
    const reply = "article.thread textarea[aria-label=Reply]";
    await until(b, () => b.$(reply).isExisting(), "the new thread");
    const replyLen = await insertInto(b, reply, "reply text ", MB);
    await (await b.$("article.thread").$("button=Reply")).click();
    const replyError = await alertIn(b, "article.thread", "the reply limit error");
    if (!/^The reply is too long: [\d.,]+ (KB|MB); the limit is 64 KB\./.test(replyError)) throw new Error(`reply error: ${replyError}`);
    const keptReply = await b.execute((sel) => document.querySelector(sel)?.value.length ?? -1, reply);
    if (keptReply !== replyLen) throw new Error(`the reply box holds ${keptReply} characters after the error, not ${replyLen}`);

    // A date that does not exist is refused and kept; a real one is shown in words.
    await (await b.$("button=Set due date")).click();
    const due = await b.$("input[name=due]");
    await until(b, () => due.isExisting(), "the due date field");
    await due.setValue("2031-02-30");
    await (await b.$("form[aria-label='Due date']").$("button=Save")).click();
    const dueError = await alertIn(b, "article.spec header.spec-head", "the due date error");
    if (!/does not exist/.test(dueError)) throw new Error(`due date error: ${dueError}`);
    if ((await due.getValue()) !== "2031-02-30") throw new Error("the due date field lost its text");
    await due.setValue("2031-03-14");
    await (await b.$("form[aria-label='Due date']").$("button=Save")).click();
    await until(b, async () => (await texts(b, "[data-testid=due]")).some((t) => /^Due .*2031/.test(t)), "the due date shown");

    // (b) A folder with a link outside it: refused, the path stays.
    const outside = mkdtempSync(join(tmpdir(), "handoff-e2e-link-"));
    writeFileSync(join(outside, "main.rs"), "fn main() {}\n");
    symlinkSync("/etc/hostname", join(outside, "leak"));
    await (await b.$("button=or type a folder path")).click();
    const folder = await b.$("input[name=folder]");
    await until(b, () => folder.isExisting(), "the folder field");
    await folder.setValue(outside);
    await (await b.$("form[aria-label='New revision']").$("button=Deliver")).click();
    const linkError = await alertIn(b, "section.revisions", "the link error");
    if (!/outside the delivered folder/.test(linkError)) throw new Error(`link error: ${linkError}`);
    if ((await folder.getValue()) !== outside) throw new Error("the folder path was lost");

    // 20,000 files: progress shows and moves; search answers meanwhile.
    const t0 = Date.now();
    const big = folderOf(FILES);
    console.log(`made ${FILES} files in ${Date.now() - t0} ms`);
    await folder.setValue(big);
    await (await b.$("input[name=summary]")).setValue("Twenty thousand files");
    const started = Date.now();
    await (await b.$("form[aria-label='New revision']").$("button=Deliver")).click();
    const seen = new Set();
    let searched = false;
    await until(
      b,
      async () => {
        const p = await b.execute(() => {
          const el = document.querySelector("[data-testid=deliver-progress]");
          return el ? { stored: Number(el.getAttribute("data-stored")), total: Number(el.getAttribute("data-total")) } : null;
        });
        if (p && p.total === FILES && p.stored > 0 && p.stored < FILES) seen.add(p.stored);
        if (!searched && seen.size >= 1) {
          // The app answers while files are stored: a search returns this spec.
          const t = Date.now();
          await (await b.$("input[type=search]")).setValue("header row");
          await until(b, async () => (await texts(b, ".hits .hit-title")).includes(TITLE), "search results during the delivery", 15_000);
          console.log(`search answered in ${Date.now() - t} ms during the delivery`);
          await b.execute(() => {
            const s = document.querySelector("input[type=search]");
            s.value = "";
            s.dispatchEvent(new Event("input", { bubbles: true }));
          });
          searched = true;
        }
        return (await texts(b, "section.revisions .timeline li .muted.small")).some((t) => /^20,?000 files/.test(t));
      },
      "revision 1 with 20,000 files",
      240_000,
    ).catch(async (e) => {
      throw new Error(`${e.message}; alerts: ${JSON.stringify(await texts(b, "[role=alert]"))}`);
    });
    console.log(`delivered ${FILES} files in ${Date.now() - started} ms; ${seen.size} distinct progress values seen`);
    if (seen.size < 2) throw new Error(`progress did not move visibly (${[...seen].join(", ")})`);
    if (!searched) throw new Error("the search during the delivery did not run");
  } finally {
    await stop(b);
  }
});
