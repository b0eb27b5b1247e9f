// Two people, two machines: an owner and a contractor use the CLI against a real server; the
// contractor delivers the whatwg pair, a binary and a rename as revisions 1 and 2. The real
// app, joined as a reviewer, syncs once: the revisions' files download in the background.
// Then the server stops, and the reviewer opens the diff offline: the file list (the rename
// with its similarity, the binary with its sizes), a known changed line, side by side.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";
import { diffFiles, firstAddedLine, revisionFolders } from "./revisions.mjs";
import { cli, freePort, invite, joinInApp, startServer, stopServer, tempDir } from "./server.mjs";

const TITLE = "Upgrade the HTML standard";
const appData = process.env.HANDOFF_DATA_DIR;

/** sha256 of every file under `dir`. */
function hashes(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(createHash("sha256").update(readFileSync(join(e.parentPath, e.name))).digest("hex"));
  }
  return out;
}

const attr = (b, sel, name) => b.execute((s, n) => document.querySelector(s)?.getAttribute(n) ?? null, sel, name);

scenario("a reviewer who synced once reviews the delivery with the server gone", async () => {
  const serverDir = tempDir("server");
  let server = await startServer(serverDir, await freePort());
  let b = null;
  try {
    const owner = tempDir("owner");
    const contractor = tempDir("contractor");
    const joinWithCli = (dir, email, name, role) =>
      cli(dir, ["join", "--server", server.url, "--invite", invite(serverDir, email, role), "--email", email, "--name", name]);
    joinWithCli(owner, "ana@example.com", "Ana", "owner");
    joinWithCli(contractor, "cole@example.com", "Cole", "contractor");
    const spec = cli(owner, ["spec", "new", "--title", TITLE, "--criterion", "Every section renders"]).trim();
    cli(owner, ["spec", "assign", spec, "cole@example.com"]);
    cli(owner, ["spec", "status", spec, "ready", "--override", "handed off for the test"]);
    cli(owner, ["sync"]);
    cli(contractor, ["sync"]);
    cli(contractor, ["spec", "status", spec, "in_progress"]);
    const { r1, r2 } = revisionFolders();
    cli(contractor, ["deliver", spec, r1, "--note", "first cut"]);
    cli(contractor, ["deliver", spec, r2, "--note", "rebased on upstream"]);
    cli(contractor, ["spec", "status", spec, "delivered"]);
    cli(contractor, ["sync"]);
    const firstAdded = firstAddedLine(process.env.HANDOFF_CLI_BIN, contractor, spec);

    b = await startApp();
    const t0 = Date.now();
    await joinInApp(b, server.url, invite(serverDir, "ben@example.com", "reviewer"), "ben@example.com", "Ben");
    // Evidence, not time: every file of both revisions is in the app's blob store.
    const want = [...new Set([...hashes(r1), ...hashes(r2)])];
    const here = (h) => existsSync(join(appData, "blobs", h.slice(0, 2), h.slice(2)));
    await until(b, async () => want.every(here), `the ${want.length} files of both revisions downloaded`, 60_000);
    console.log(`both revisions' files downloaded ${Date.now() - t0} ms after joining`);
    await until(b, async () => !(await b.$("[data-testid=downloads]").isExisting()), "the sync bar with nothing left to download", 20_000);

    await stopServer(server);
    server = null;

    const item = await b.$(`//ul[@aria-label="Specs"]//button[contains(., "${TITLE}")]`);
    await until(b, () => item.isExisting(), "the spec in the list");
    await item.click();
    const link = await b.$("[data-revision='2'] [data-testid=open-diff]");
    await until(b, () => link.isExisting(), "the timeline's link to the changes since revision 1");
    await link.click();
    const files = () => diffFiles(b);
    await until(b, async () => (await files()).length === 4, "the file list, offline", 30_000);
    const by = Object.fromEntries((await files()).map((f) => [f.path, f]));
    const check = (cond, what) => {
      if (!cond) throw new Error(`${what}: ${JSON.stringify(by)}`);
    };
    check(by["notes/streaming.md"]?.status === "renamed" && /renamed 9\d%/.test(by["notes/streaming.md"].text), "the rename with its similarity");
    check(by["logo.bin"]?.content === "binary", "logo.bin as binary");
    check(by["latin1.txt"]?.content === "binary", "the Latin-1 file as binary");

    await (await b.$("[data-testid=diff-file][data-path='logo.bin']")).click();
    const binary = await b.$("[data-testid=diff-binary]");
    await until(b, () => binary.isExisting(), "the binary file's sizes");
    const binText = await binary.getText();
    if (!/12 B/.test(binText) || !/20 B/.test(binText)) throw new Error(`binary pane: ${binText}`);

    await (await b.$("[data-testid=diff-file][data-path='source.html']")).click();
    await (await b.$("[data-testid=layout-split]")).click();
    await until(b, async () => (await attr(b, "[data-testid=diff-scroll]", "data-layout")) === "split", "the side-by-side layout");
    await until(
      b,
      async () => (await texts(b, "[data-testid=diff-row]")).some((t) => t.includes(firstAdded.trim())),
      `the known changed line ${JSON.stringify(firstAdded)}, side by side`,
      30_000,
    );
    const errors = await texts(b, "[data-testid=diff-error]");
    if (errors.length > 0) throw new Error(`the viewer shows an error offline: ${errors.join(" ")}`);
  } catch (e) {
    if (server) console.error(`server log: ${server.log()}`);
    throw e;
  } finally {
    if (b) await stop(b);
    if (server) await stopServer(server);
  }
});
