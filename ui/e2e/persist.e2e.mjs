// A spec written in the app survives a restart unchanged: create with criteria (after a
// rejected empty title that keeps what was typed), add a criterion, edit a section, quit,
// start again, find everything as it was. Then the CLI writes to the same data dir and the
// list shows its spec without a restart (the app watches the store's data_version). With 400
// more from the CLI, the list builds only the rows in view and K scrolls the selection to it.
import { execFileSync } from "node:child_process";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";

const TITLE = "E2E: export invoices";
const SECTION_TEXT = "Written in the E2E run";

scenario("spec persists across restart", async () => {
  let b = await startApp();
  try {
    await (await b.$("button=New spec")).click();
    const criteria = await b.$("textarea[name=criteria]");
    await until(b, () => criteria.isExisting(), "the new spec form");
    await criteria.setValue("Exports every row");
    await b.keys(["Enter"]);
    await criteria.addValue("Quotes commas");
    await (await b.$("button=Create spec")).click();
    const alert = await b.$("form[aria-label='New spec'] [role=alert]");
    await until(b, () => alert.isExisting(), "the empty-title error");
    const message = await alert.getText();
    if (!/title/i.test(message)) throw new Error(`unexpected error text: ${message}`);
    const kept = await criteria.getValue();
    if (kept !== "Exports every row\nQuotes commas") throw new Error(`criteria lost after error: ${JSON.stringify(kept)}`);

    await (await b.$("input[name=title]")).setValue(TITLE);
    await (await b.$("button=Create spec")).click();
    await until(b, async () => (await texts(b, "article.spec h1")).some((t) => t.startsWith(TITLE)), "the spec view");

    await (await b.$("input[name=new-criterion]")).setValue("UTF-8 with BOM");
    await (await b.$("button=Add")).click();
    await until(b, async () => (await texts(b, "section.criteria li .text")).length === 3, "the third criterion");

    await (await b.$("button[aria-label='Edit System context']")).click();
    const editor = await b.$("section[data-section=system_context] .cm-content");
    await until(b, () => editor.isExisting(), "the section editor");
    await editor.addValue(SECTION_TEXT);
    await until(b, async () => (await texts(b, ".cm-content")).join("") === SECTION_TEXT, "the typed section text", 5_000).catch(
      async (e) => {
        throw new Error(`${e.message}; editor holds ${JSON.stringify(await texts(b, ".cm-content"))}`);
      },
    );
    await (await b.$("section[data-section=system_context]").$("button=Save")).click();
    await until(
      b,
      async () => (await texts(b, "section[data-section=system_context] .markdown")).join("") === SECTION_TEXT,
      "the saved section",
    );
  } finally {
    await stop(b);
  }

  b = await startApp();
  try {
    const item = await b.$(`//button[@role="option"][contains(., "${TITLE}")]`);
    await until(b, () => item.isExisting(), "the spec in the list after restart");
    await item.click();
    await until(b, async () => (await texts(b, "section.criteria li .text")).length === 3, "criteria after restart");
    const got = await texts(b, "section.criteria li .text");
    const want = ["Exports every row", "Quotes commas", "UTF-8 with BOM"];
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`criteria after restart: ${JSON.stringify(got)}`);
    const section = (await texts(b, "section[data-section=system_context] .markdown")).join("");
    if (section !== SECTION_TEXT) throw new Error(`section after restart: ${JSON.stringify(section)}`);
    const status = await texts(b, "article.spec [data-status]");
    if (status[0] !== "Draft") throw new Error(`status after restart: ${status}`);

    const cliBin = process.env.HANDOFF_CLI_BIN;
    if (!cliBin) throw new Error("HANDOFF_CLI_BIN is not set");
    execFileSync(cliBin, ["--data-dir", process.env.HANDOFF_DATA_DIR, "spec", "new", "--title", "Made by the CLI"], { stdio: "ignore" });
    const t0 = Date.now();
    const fromCli = await b.$(`//button[@role="option"][contains(., "Made by the CLI")]`);
    await until(b, () => fromCli.isExisting(), "the CLI's spec in the list", 10_000);
    console.log(`the CLI's spec was listed ${Date.now() - t0} ms after the CLI wrote it`);

    // A long list builds only the rows in view, scrolls inside its own pane, and brings a
    // selection made by keys into view.
    for (let i = 1; i <= 400; i++) {
      execFileSync(cliBin, ["--data-dir", process.env.HANDOFF_DATA_DIR, "spec", "new", "--title", `Backlog item ${i}`], { stdio: "ignore" });
    }
    const list = () =>
      b.execute(() => {
        const scroller = document.querySelector("[data-testid=spec-list-scroll]");
        const options = [...document.querySelectorAll('ul[aria-label="Specs"] [role=option]')];
        const pane = scroller.getBoundingClientRect();
        const inView = options.filter((o) => {
          const r = o.getBoundingClientRect();
          return r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1;
        });
        return {
          built: options.length,
          size: Number(options[0]?.getAttribute("aria-setsize")),
          rowHeight: options[0]?.parentElement.offsetHeight,
          scrollHeight: scroller.scrollHeight,
          clientHeight: scroller.clientHeight,
          scrollTop: scroller.scrollTop,
          inView: inView.map((o) => o.querySelector(".title").textContent),
          selected: document.querySelector('ul[aria-label="Specs"] [aria-selected=true] .title')?.textContent ?? null,
        };
      });
    await until(b, async () => (await list()).size === 402, "402 specs in the list", 20_000);
    const top = await list();
    if (top.built > 60) throw new Error(`the list built ${top.built} of 402 rows: it should build only those in view`);
    if (top.clientHeight > 900) throw new Error(`the list's pane is ${top.clientHeight} px tall: it should scroll inside the window`);
    if (Math.abs(top.scrollHeight - 402 * top.rowHeight) > top.rowHeight)
      throw new Error(`the list scrolls ${top.scrollHeight} px for 402 rows of ${top.rowHeight} px`);
    const scrollTo = (where) =>
      b.execute((w) => {
        const scroller = document.querySelector("[data-testid=spec-list-scroll]");
        scroller.scrollTop = w === "bottom" ? scroller.scrollHeight : 0;
      }, where);
    await scrollTo("bottom");
    await until(b, async () => (await list()).inView.includes(TITLE), "the oldest spec in view at the bottom of the list", 5_000);
    // The spec opened above is the oldest, at the bottom: scrolled away from it, K moves the
    // selection to the one above it and the list follows.
    await scrollTo("top");
    await until(b, async () => (await list()).inView.includes("Backlog item 400"), "the newest spec in view at the top", 5_000);
    await b.keys(["k"]);
    await until(
      b,
      async () => {
        const l = await list();
        return l.selected === "Made by the CLI" && l.inView.includes("Made by the CLI");
      },
      "the spec above the opened one selected by K and scrolled into view",
      5_000,
    ).catch(async (e) => {
      throw new Error(`${e.message}; the list: ${JSON.stringify(await list())}`);
    });
  } finally {
    await stop(b);
  }
});
