// Screenshots of the main screens on the demo data (see xtask/src/screenshots.rs).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { scenario, startApp, stop, until } from "./lib.mjs";
import { revisionFolders } from "./revisions.mjs";
import { cli, createSpec, freePort, invite, joinInApp, startServer, stopServer, tempDir, untilBar } from "./server.mjs";

const out = process.env.HANDOFF_SCREENSHOTS_DIR;
if (!out) throw new Error("HANDOFF_SCREENSHOTS_DIR is not set");

scenario("screenshots", async () => {
  const b = await startApp();
  const shot = async (name) => {
    await b.pause(400);
    // WebKitWebDriver's screenshot endpoint hangs under Xvfb; grab the X screen instead.
    execFileSync("import", ["-window", "root", join(out, `${name}.png`)]);
    console.log(`saved ${name}.png`);
  };
  try {
    await until(b, async () => (await b.$$("button[role=option]")).length >= 4, "the demo specs");
    await shot("01-specs-list");
    await (await b.$("//button[@role=\"option\"][contains(., \"CSV export\")]")).click();
    await until(b, async () => (await b.$("article.spec h1")).isExisting(), "the spec view");
    await shot("02-spec-view");
    // The end of the revision timeline (with its review) at the bottom, the threads above it.
    await b.execute(() => document.querySelector("section.revisions")?.scrollIntoView({ block: "end" }));
    await shot("03-threads-and-deliverable");
    await b.execute(() => document.querySelector("article.spec")?.scrollIntoView());
    await (await b.$("button[aria-label='Edit API shape']")).click();
    await until(b, async () => (await b.$(".cm-content")).isExisting(), "the section editor");
    await shot("04-section-editor");
    await (await b.$("button=Cancel")).click();
    await (await b.$("input[type=search]")).setValue("quoted");
    await until(b, async () => (await b.$$(".hits li")).length > 0, "search results");
    await shot("05-search");
    await (await b.$("input[type=search]")).click();
    await b.keys(["Escape"]);
    await until(b, async () => (await b.$$("button[role=option]")).length >= 4, "the list again");
    await (await b.$("button=New spec")).click();
    await (await b.$("button=Create spec")).click();
    await until(b, async () => (await b.$("[role=alert]")).isExisting(), "the empty-title error");
    await shot("06-new-spec-error");
    await (await b.$("button=Cancel")).click();
    // The toggle cycles system → light → dark.
    await (await b.$("button*=Theme:")).click();
    await (await b.$("button*=Theme:")).click();
    await until(b, async () => (await b.$("button=Theme: dark")).isExisting(), "the dark theme");
    await (await b.$("//button[@role=\"option\"][contains(., \"CSV export\")]")).click();
    await until(b, async () => (await b.$("article.spec h1")).isExisting(), "the spec view");
    await shot("07-spec-view-dark");
    await (await b.$("button*=Theme:")).click();

    // The diff viewer: revision 1 → 2 of the CSV export spec (opened from the timeline).
    await b.execute(() => document.querySelector("[data-revision='2'] [data-testid=open-diff]")?.scrollIntoView());
    await (await b.$("[data-revision='2'] [data-testid=open-diff]")).click();
    await until(b, async () => (await b.$$("[data-testid=diff-file]")).length >= 3, "the diff's file list", 20_000);
    const painted = async () => Number(await b.execute(() => document.querySelector("[data-testid=diff-scroll]")?.getAttribute("data-rows-painted") ?? 0));
    await (await b.$("[data-testid=diff-file][data-path='lifecycle.rs']")).click();
    await until(b, async () => (await painted()) > 10, "the edited file's rows");
    // Let the worker's syntax colors arrive.
    await until(b, async () => (await b.$$("[data-testid=diff-scroll] .tok-keyword")).length > 0, "syntax colors", 10_000);
    await shot("10-diff-unified");
    await (await b.$("[data-testid=layout-split]")).click();
    await until(b, async () => (await b.$("[data-testid=diff-scroll][data-layout=split]")).isExisting() && (await painted()) > 10, "side by side");
    await shot("11-diff-split");
    await (await b.$("[data-testid=diff-file][data-path='logo.png']")).click();
    await until(b, async () => (await b.$("[data-testid=diff-binary]")).isExisting(), "the binary file");
    await shot("12-diff-binary");
    await (await b.$("[data-testid=diff-file][data-path='validation.rs']")).click();
    await until(b, async () => (await painted()) > 3, "the renamed file's rows");
    await shot("13-diff-rename");
    await (await b.$("button*=Theme:")).click();
    await (await b.$("button*=Theme:")).click();
    await until(b, async () => (await b.$("button=Theme: dark")).isExisting(), "the dark theme");
    await (await b.$("[data-testid=diff-file][data-path='lifecycle.rs']")).click();
    await until(b, async () => (await painted()) > 10, "the edited file's rows");
    await shot("14-diff-split-dark");
    await (await b.$("button*=Theme:")).click();
    await (await b.$("button*=← CSV export")).click();
    await until(b, async () => (await b.$("article.spec h1")).isExisting(), "back on the spec");

    // Reviewing: revision 2 → 3, where one thread is current and one outdated (its lines
    // changed), with the gutter markers and the picked lines of a new comment.
    await b.execute(() => document.querySelector("[data-revision='3'] [data-testid=open-diff]")?.scrollIntoView());
    await (await b.$("[data-revision='3'] [data-testid=open-diff]")).click();
    await until(b, async () => (await b.$$("[data-testid=diff-file]")).length >= 1, "the r2 → r3 file list", 20_000);
    await (await b.$("[data-testid=diff-file][data-path='lifecycle.rs']")).click();
    await until(b, async () => (await b.$$("[data-testid=placed-thread]")).length >= 2, "the placed threads", 20_000);
    await until(b, async () => (await painted()) > 5, "the rows");
    await shot("16-diff-threads-current-and-outdated");
    await (await b.$("button*=← CSV export")).click();
    await until(b, async () => (await b.$("article.spec h1")).isExisting(), "back on the spec");
    await (await b.$("[data-testid=open-review]")).click();
    const composer = await b.$("[data-testid=review-composer]");
    await until(b, async () => (await composer.$$("[data-testid=draft]")).length === 2, "the composer with its drafts");
    await (await composer.$("input[value=approve]")).click();
    await (await composer.$("select[aria-label='Status of criterion 1']")).selectByAttribute("value", "met");
    await (await composer.$("select[aria-label='Status of criterion 4']")).selectByAttribute("value", "met");
    await (await composer.$("input[aria-label='Note on criterion 4']")).setValue("format_cents() covers display");
    await b.execute(() => document.querySelector("[data-testid=review-composer]")?.scrollIntoView());
    await shot("17-review-composer");
    await b.execute(() => document.querySelector("[data-testid=ledger]")?.scrollIntoView({ block: "end" }));
    await shot("18-acceptance-ledger");
    await b.execute(() => document.querySelector("[data-testid=claimed]")?.scrollIntoView({ block: "center" }));
    await shot("19-claimed-thread");
    await (await composer.$("button=Close")).click();

    // Sync: join a local server as the owner. The demo data was assigned offline to people
    // who are not members there, so the server refuses those changes: they need attention.
    // Then the server stops and work goes on: changes wait to sync.
    const serverDir = tempDir("server");
    const port = await freePort();
    let server = await startServer(serverDir, port);
    try {
      await joinInApp(b, server.url, invite(serverDir, "owner@example.com"), "owner@example.com", "Olu");
      await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the first sync");
      await until(b, async () => (await b.$("[data-testid=attention-badge]")).isExisting(), "the attention badge", 20_000);

      // Downloads held back: the app's download limit set to 1 MB on its account screen, then
      // a contractor delivers a 4 MB revision with the CLI and the app syncs it.
      const limit = await b.$("input[name=download-limit]");
      if (!(await limit.isExisting())) await (await b.$("button=Account")).click();
      await until(b, () => limit.isExisting(), "the download limit");
      await limit.setValue("1");
      await (await b.$("button=Save limit")).click();
      await until(b, async () => (await b.$("p*=Saved: up to")).isExisting(), "the saved limit");
      const ana = tempDir("cli-owner");
      const cole = tempDir("cli-contractor");
      const joinWithCli = (dir, email, name, role) =>
        cli(dir, ["join", "--server", server.url, "--invite", invite(serverDir, email, role), "--email", email, "--name", name]);
      joinWithCli(ana, "ana@example.com", "Ana", "owner");
      joinWithCli(cole, "cole@example.com", "Cole", "contractor");
      // Two other time zones, so the member list shows three local clocks.
      cli(ana, ["me", "--timezone", "Australia/Melbourne", "--hours", "08:30-16:30"]);
      cli(cole, ["me", "--timezone", "Europe/Lisbon", "--hours", "09:00-17:30", "--days", "mon-fri"]);
      const spec = cli(ana, ["spec", "new", "--title", "Upgrade the HTML standard", "--criterion", "Every section renders"]).trim();
      cli(ana, ["spec", "assign", spec, "cole@example.com"]);
      cli(ana, ["spec", "status", spec, "ready", "--override", "handed off for the test"]);
      cli(ana, ["sync"]);
      cli(cole, ["sync"]);
      cli(cole, ["spec", "status", spec, "in_progress"]);
      cli(cole, ["deliver", spec, revisionFolders().r2, "--note", "rebased on upstream"]);
      cli(cole, ["spec", "status", spec, "delivered"]);
      cli(cole, ["sync"]);
      await (await b.$("button=Account")).click();
      await (await b.$("button=Sync now")).click();
      await until(b, async () => /download limit/.test(await b.$("[data-testid=downloads]").getText().catch(() => "")), "revisions held back", 30_000);
      const item = await b.$('//ul[@aria-label="Specs"]//button[contains(., "Upgrade the HTML standard")]');
      await until(b, () => item.isExisting(), "the delivered spec in the list");
      await item.click();
      await until(b, async () => (await b.$("article.spec h1")).isExisting(), "the delivered spec");
      await shot("15-sync-bar-downloads-held-back");

      // The engagement: the confirmation for ending it on the delivered spec, the member
      // list, and an invite's one-time code.
      await (await b.$("[data-testid=end-engagement]")).click();
      await until(b, async () => (await b.$("[data-testid=ending-contractor]")).isExisting(), "the end-engagement confirmation");
      await shot("22-end-engagement-confirmation");
      await (await b.$("[data-testid=end-engagement-dialog]").$("button=Cancel")).click();
      await (await b.$("[data-testid=members-open]")).click();
      await until(b, async () => (await b.$$("[data-testid=member-row]")).length >= 3, "the member list");
      await shot("20-members");
      await (await b.$("[data-testid=invite-open]")).click();
      await (await b.$("[data-testid=invite-email]")).setValue("dee@example.com");
      await (await b.$("[data-testid=invite-send]")).click();
      await until(b, async () => (await b.$("[data-testid=invite-code]")).isExisting(), "the invite code");
      await shot("21-invite-code");
      await (await b.$("button=Done")).click();

      // The inbox and turnaround: the contractor asks, the other owner answers and requests
      // changes, the contractor delivers again; each step on a server whose clock runs hours
      // ahead, so the turnaround has something to count. The app syncs and shows what it missed.
      const folders = revisionFolders();
      const at = async (hours) => {
        await stopServer(server);
        server = await startServer(serverDir, port, { ahead: `${hours}h` });
      };
      const question = cli(cole, ["thread", "new", spec, "--text", "Should the old anchors keep working?"]).trim();
      cli(cole, ["sync"]);
      await at(43);
      cli(ana, ["sync"]);
      cli(ana, ["thread", "reply", question, "--text", "Yes: keep every old id as an alias."]);
      cli(ana, ["sync"]);
      await at(45);
      cli(ana, ["review", spec, "1", "--verdict", "request-changes", "--summary", "Two anchors are gone"]);
      cli(ana, ["sync"]);
      await at(54);
      cli(cole, ["sync"]);
      cli(cole, ["deliver", spec, folders.r1, "--note", "old anchors kept as aliases"]);
      cli(cole, ["sync"]);
      await at(66);
      cli(ana, ["sync"]);
      cli(ana, ["review", spec, "2", "--verdict", "approve"]);
      cli(ana, ["sync"]);
      await (await b.$("button=Account")).click();
      await (await b.$("button=Sync now")).click();
      await (await b.$("[data-testid=inbox-open]")).click();
      await until(b, async () => (await b.$$("[data-testid=inbox-item]")).length >= 4, "the inbox", 30_000);
      await shot("24-inbox");
      await (await b.$("[data-testid=turnaround-tab]")).click();
      await until(b, async () => (await b.$$("[data-testid=turn]")).length >= 3, "the turnaround view", 20_000);
      await shot("25-turnaround");
    } finally {
      await stopServer(server);
    }
    await createSpec(b, "Rate limits for the export API");
    await untilBar(b, (s) => s.online === "false" && s.pending >= 1, "offline with pending changes");
    await shot("08-sync-bar-offline-pending");
    // The new draft's readiness checklist: thin, so most rules fail and say what to write.
    const draft = await b.$('//ul[@aria-label="Specs"]//button[contains(., "Rate limits for the export API")]');
    await draft.click();
    await until(b, async () => (await b.$("[data-testid=readiness]")).isExisting(), "the readiness checklist");
    await shot("23-readiness-failing");
    await (await b.$("[data-testid=attention-badge]")).click();
    await until(b, async () => (await b.$$("section.attention li")).length > 0, "the attention list");
    await shot("09-attention-list");
  } finally {
    await stop(b);
  }
});
