// Links never take the app window away. A spec's notes hold a markdown link: clicking it shows
// the full address in a confirmation and opens nothing until the person agrees (here they
// cancel: nothing is opened, and no browser is started by the test); the window is still on
// the app's page afterwards. A script setting window.location is refused by the navigation
// guard, which the app reports; the window again stays on the app.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";

const TITLE = "E2E links";
const ADDRESS = "https://example.com/style-guide?section=links#external";

scenario("links open outside the app, after showing the address", async () => {
  const cliBin = process.env.HANDOFF_CLI_BIN;
  if (!cliBin) throw new Error("HANDOFF_CLI_BIN is not set");
  const notes = join(mkdtempSync(join(tmpdir(), "handoff-e2e-links-")), "notes.md");
  writeFileSync(notes, `Follow [the style guide](${ADDRESS}) for every screen.\n`);
  execFileSync(cliBin, ["--data-dir", process.env.HANDOFF_DATA_DIR, "spec", "new", "--title", TITLE, "--notes-file", notes], {
    stdio: "ignore",
  });

  const b = await startApp();
  try {
    const appUrl = await b.getUrl();
    if (!appUrl.startsWith("tauri://")) throw new Error(`the app starts on ${appUrl}`);
    const item = await b.$(`//button[@role="option"][contains(., "${TITLE}")]`);
    await until(b, () => item.isExisting(), "the spec in the list");
    await item.click();
    const link = await b.$("section[data-section=notes] .markdown a");
    await until(b, () => link.isExisting(), "the rendered link");
    await link.click();

    const shown = await b.$("[data-testid=link-url]");
    await until(b, () => shown.isExisting(), "the confirmation with the address");
    const address = await shown.getText();
    if (address !== ADDRESS) throw new Error(`the confirmation shows ${JSON.stringify(address)}, not the full address`);
    await (await b.$("[data-testid=link-confirm]").$("button=Cancel")).click();
    await until(b, async () => !(await shown.isExisting()), "the confirmation to close");
    const afterClick = await b.getUrl();
    if (afterClick !== appUrl) throw new Error(`the window left the app after the click: ${afterClick}`);
    if ((await texts(b, "article.spec h1")).every((t) => !t.startsWith(TITLE))) throw new Error("the spec is no longer shown");

    // A page script tries to take the window elsewhere; the guard refuses and the app says so.
    await b.execute(() => {
      window.location.href = "https://example.com/";
    });
    const notice = await b.$("[data-testid=link-notice]");
    await until(b, async () => (await notice.isExisting()) && (await notice.getText()).includes("https://example.com/"), "the refused navigation's notice");
    const afterScript = await b.getUrl();
    if (afterScript !== appUrl) throw new Error(`the window left the app after window.location: ${afterScript}`);
    if ((await texts(b, "article.spec h1")).every((t) => !t.startsWith(TITLE))) throw new Error("the app page was replaced");
  } finally {
    await stop(b);
  }
});
