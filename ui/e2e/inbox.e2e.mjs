// Handoffs across time zones, two people on two machines: a reviewer in Melbourne (the app)
// and a contractor in Lisbon (the CLI) run a whole engagement: question → answer → r1 →
// changes requested → r2 → approved. Each side's inbox lists the other's doings with the
// sender's local time; the reviewer's notification for the question is held outside her
// working hours and shown once her hours include now (the hours are what moves here, not the
// clock); inbox items open where they happened; with the server stopped, the contractor's
// inbox and the app's turnaround view hold what happened.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scenario, startApp, stop, texts, until } from "./lib.mjs";
import { cli, freePort, invite, joinInApp, startServer, stopServer, tempDir } from "./server.mjs";

const TITLE = "E2E inbox: invoice export";
const RITA = "rita@example.com";
const CARLOS = "carlos@example.com";
const json = (dir, args) => JSON.parse(cli(dir, ["--json", ...args]));
const inboxTexts = (dir) => json(dir, ["inbox"]).groups.flatMap((g) => g.items.map((i) => i.text));

function folder(label, body) {
  const dir = tempDir(label);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "src", "export.rs"), body);
  return dir;
}

async function click(b, selector, what) {
  const el = await b.$(selector);
  await until(b, () => el.isExisting(), what, 20_000);
  await el.click();
}

/** Hours that do not include the current hour in Melbourne (so a notice is held). */
function hoursAwayFromNow() {
  const h = Number(new Intl.DateTimeFormat("en-GB", { timeZone: "Australia/Melbourne", hour: "2-digit", hourCycle: "h23" }).format(new Date()));
  return h < 12 ? "18:00-19:00" : "06:00-07:00";
}

async function setHours(b, hours) {
  await click(b, "[data-testid=members-open]", "the Members button");
  await click(b, "[data-testid=my-hours-edit]", "Change… on your hours");
  const zone = await b.$("[data-testid=my-zone]");
  await zone.setValue("Australia/Melbourne");
  await (await b.$("[data-testid=my-hours-input]")).setValue(hours);
  await (await b.$("[data-testid=my-days]")).setValue("mon-sun");
  await (await b.$("[data-testid=my-hours] button[type=submit]")).click();
  await until(b, async () => (await texts(b, "[data-testid=my-hours]")).some((t) => t.includes(hours)), `the hours ${hours}`);
}

async function openInbox(b) {
  const inbox = await b.$("[data-testid=inbox]");
  if (!(await inbox.isExisting())) await click(b, "[data-testid=inbox-open]", "the Inbox button");
  await until(b, () => inbox.isExisting(), "the inbox");
}

async function inboxItem(b, text, what) {
  let found = null;
  await until(
    b,
    async () => {
      for (const el of await b.$$("[data-testid=inbox-item]")) {
        if ((await el.getText()).includes(text)) {
          found = el;
          return true;
        }
      }
      return false;
    },
    what,
    45_000,
  ).catch(async (e) => {
    throw new Error(`${e.message}; inbox: ${JSON.stringify(await texts(b, "[data-testid=inbox-item]"))}`);
  });
  return found;
}

async function review(b, verdict, criterion) {
  await click(b, "[data-testid=viewer-review]", "Review in the diff viewer");
  const composer = await b.$("[data-testid=review-composer]");
  await until(b, () => composer.isExisting(), "the review composer");
  await (await composer.$(`input[value=${verdict}]`)).click();
  await (await composer.$("textarea[aria-label='Review summary']")).setValue(verdict === "approve" ? "Good to go." : "Refunds are missing.");
  await (await composer.$("select[aria-label='Status of criterion 1']")).selectByAttribute("value", criterion);
  await (await composer.$("[data-testid=publish-review]")).click();
  await until(b, () => b.$("[data-testid=review-published]").isExisting(), "the review published");
}

scenario("a reviewer in Melbourne (app) and a contractor in Lisbon (CLI) hand work back and forth through their inboxes", async () => {
  const serverDir = tempDir("server");
  const port = await freePort();
  let server = await startServer(serverDir, port);
  let b = null;
  // The desktop notifications on the session bus, as the notification service receives them.
  const bus = spawn("dbus-monitor", ["--session", "interface='org.freedesktop.Notifications',member='Notify'"], { stdio: ["ignore", "pipe", "ignore"] });
  let notified = "";
  bus.stdout.on("data", (d) => (notified += d.toString()));
  try {
    const owner = tempDir("owner");
    const carlos = tempDir("carlos");
    const join_ = (dir, email, name, role) =>
      cli(dir, ["join", "--server", server.url, "--invite", invite(serverDir, email, role), "--email", email, "--name", name]);
    join_(owner, "olga@example.com", "Olga", "owner");
    join_(carlos, CARLOS, "Carlos", "contractor");
    cli(carlos, ["me", "--timezone", "Europe/Lisbon", "--hours", "09:00-18:00", "--days", "mon-fri"]);
    const spec = cli(owner, ["spec", "new", "--title", TITLE, "--criterion", "Exports a month as CSV"]).trim();
    cli(owner, ["spec", "assign", spec, CARLOS]);
    cli(owner, ["spec", "status", spec, "ready", "--override", "walked through in the kickoff notes"]);
    cli(owner, ["sync"]);

    b = await startApp();
    await joinInApp(b, server.url, invite(serverDir, RITA, "reviewer"), RITA, "Rita");
    await setHours(b, hoursAwayFromNow());

    // Lisbon asks while Melbourne is outside her hours.
    cli(carlos, ["sync"]);
    const assigned = inboxTexts(carlos);
    if (!assigned.includes("Olga assigned you")) throw new Error(`the contractor's inbox: ${JSON.stringify(assigned)}`);
    cli(carlos, ["inbox", "read", "--all"]);
    cli(carlos, ["thread", "new", spec, "--text", "Should refunds be negative rows?"]);
    cli(carlos, ["sync"]);

    await until(b, async () => (await texts(b, "[data-testid=inbox-unread]")).some((t) => Number(t) >= 1), "the unread count", 45_000);
    await openInbox(b);
    const asked = await inboxItem(b, "Carlos asked a question", "the question in the inbox");
    const line = await asked.getText();
    if (!line.includes("Should refunds be negative rows?") || !/\d\d:\d\d Lisbon time · \w{3} \d\d:\d\d for you/.test(line))
      throw new Error(`the question's inbox line: ${line}`);
    if ((await asked.getAttribute("class"))?.includes("unread") !== true) throw new Error("the question is unread");
    await until(b, async () => (await texts(b, "[data-testid=notices-held]")).some((t) => t.startsWith("1 notification held until")), "the notice held");
    if ((await b.$$("[data-testid=notice]")).length !== 0) throw new Error("a notice was shown outside working hours");

    // Her hours now include this moment: the held notice is shown.
    await setHours(b, "00:00-23:59");
    await until(b, async () => (await texts(b, "[data-testid=notice]")).some((t) => t.includes("Carlos asked a question")), "the notice shown");
    await until(b, () => Promise.resolve(notified.includes('string "Carlos asked a question"')), "the desktop notification on the bus").catch((e) => {
      throw new Error(`${e.message}; the bus saw: ${notified.slice(0, 2000)}`);
    });
    if (!notified.includes(`string "${TITLE}"`)) throw new Error(`the notification's title: ${notified.slice(0, 2000)}`);
    if (notified.split("member=Notify").length !== 2) throw new Error(`one notification, not: ${notified.slice(0, 4000)}`);

    // The item opens on the spec at the thread; she answers there.
    await openInbox(b);
    await (await inboxItem(b, "Carlos asked a question", "the question again")).$("button").click();
    const thread = await b.$("article.thread");
    await until(b, () => thread.isExisting(), "the thread on the spec");
    await (await thread.$("textarea[aria-label=Reply]")).setValue("Yes: one negative row per refund.");
    await (await thread.$("button=Reply")).click();
    await until(b, async () => (await texts(b, "article.thread .comment")).length === 2, "the answer on the thread");

    // Lisbon: the answer, then r1.
    await until(b, () => Promise.resolve(inboxTexts(carlos).length > 0 || (cli(carlos, ["sync"]), false)), "the answer reaching Lisbon", 45_000);
    const answered = json(carlos, ["inbox"]).groups.flatMap((g) => g.items);
    if (answered[0]?.text !== "Rita answered your question" || !answered[0]?.sender_time?.includes("Melbourne time"))
      throw new Error(`the contractor's inbox after the answer: ${JSON.stringify(answered)}`);
    cli(carlos, ["inbox", "read", "--all"]);
    cli(carlos, ["deliver", spec, folder("r1", "fn export() { /* a month as CSV */ }\n"), "--note", "first cut"]);
    cli(carlos, ["sync"]);

    // Melbourne: the app, started again with r1 unread, opens on the inbox; the delivery
    // opens its changes; changes requested.
    await until(b, async () => (await texts(b, "[data-testid=inbox-unread]")).some((t) => Number(t) >= 1), "r1 arriving", 45_000);
    await stop(b);
    b = await startApp();
    await until(b, () => b.$("[data-testid=inbox]").isExisting(), "the app opening on its inbox", 20_000);
    await (await inboxItem(b, "Carlos delivered r1", "r1 in the inbox")).$("button").click();
    await until(b, () => b.$("[data-testid=viewer-review]").isExisting(), "the diff viewer on r1", 30_000);
    await review(b, "request_changes", "not_met");

    await until(b, () => Promise.resolve(inboxTexts(carlos).length > 0 || (cli(carlos, ["sync"]), false)), "the review reaching Lisbon", 45_000);
    if (inboxTexts(carlos)[0] !== "Rita requested changes on r1") throw new Error(`Lisbon after the review: ${inboxTexts(carlos)}`);
    cli(carlos, ["deliver", spec, folder("r2", "fn export() { /* a month as CSV, refunds negative */ }\n"), "--note", "refunds"]);
    cli(carlos, ["sync"]);

    await openInbox(b);
    await (await inboxItem(b, "Carlos delivered r2", "r2 in the inbox")).$("button").click();
    await until(b, () => b.$("[data-testid=viewer-review]").isExisting(), "the diff viewer on r2", 30_000);
    await review(b, "approve", "met");
    await until(b, () => Promise.resolve(inboxTexts(carlos).includes("Rita approved r2") || (cli(carlos, ["sync"]), false)), "the approval reaching Lisbon", 45_000);

    // The server goes away: both sides still have the record.
    await stopServer(server);
    server = null;
    const lisbon = inboxTexts(carlos);
    if (JSON.stringify(lisbon) !== JSON.stringify(["Rita approved r2", "Rita requested changes on r1"])) throw new Error(`Lisbon, offline: ${lisbon}`);
    const turns = json(carlos, ["turnaround", spec]).turns.map((t) => t.kind);
    if (JSON.stringify(turns) !== JSON.stringify(["question_to_answer", "delivery_to_review", "review_to_revision", "delivery_to_review"]))
      throw new Error(`Lisbon's turnaround: ${turns}`);
    await openInbox(b);
    await click(b, "[data-testid=turnaround-tab]", "the Turnaround tab");
    await until(b, async () => (await b.$$("[data-testid=turn]")).length === 4, "four turns in the workspace view");
    const rows = await texts(b, "[data-testid=turnaround-row]");
    if (rows.length !== 3 || !rows[0].startsWith("Question → answer1")) throw new Error(`turnaround rows: ${JSON.stringify(rows)}`);
    // Each handoff to her at most once (a delivery she opened first needs none), none for her own doings.
    const bodies = [...notified.matchAll(/string "((?:Carlos|Rita|Olga)[^"]*)"/g)].map((m) => m[1]);
    const once = new Set(bodies);
    if (once.size !== bodies.length || bodies.some((t) => t.startsWith("Rita")) || !bodies.every((t) => /^Carlos (asked a question|delivered r[12])$/.test(t)))
      throw new Error(`the notifications: ${JSON.stringify(bodies)}`);
  } finally {
    bus.kill();
    if (b) await stop(b);
    if (server) await stopServer(server);
  }
});
