// A spec written in the app survives a restart unchanged: create with criteria (after a
// rejected empty title that keeps what was typed), add a criterion, edit a section, quit,
// start again, find everything as it was. Then the CLI writes to the same data dir and the
// list shows its spec without a restart (the app watches the store's data_version).
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
  } finally {
    await stop(b);
  }
});
