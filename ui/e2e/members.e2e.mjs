// The engagement from start to end: the owner invites a contractor from the app's member
// list, the contractor joins with the CLI on another data dir and delivers; the owner changes
// the contractor's role and back, then ends the engagement from the spec (closing it and
// removing the contractor from the workspace). The contractor's next sync loses the spec, and
// their account can no longer read its files over HTTP. The owner exports the record from the
// dialog; with the server stopped, a third machine imports it with the CLI.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scenario, texts, until } from "./lib.mjs";
import { PASSWORD, cli, createSpec, stopServer, tempDir, untilBar, withJoinedApp } from "./server.mjs";

const TITLE = "E2E engagement: CSV importer";
const CONTRACTOR = "cal@example.com";
const FILE = "importer.py\n# reads the nightly CSV export\nimport csv\n";

async function http(url, method, token, body) {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", "handoff-protocol": "1", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

function specsOf(dataDir) {
  const list = JSON.parse(cli(dataDir, ["--json", "spec", "list"]));
  return list.map((s) => s.title);
}

async function memberRow(b, email) {
  return b.$(`[data-testid=member-row][data-email="${email}"]`);
}

scenario("an owner invites from the app, a CLI contractor delivers, the owner ends the engagement", () =>
  withJoinedApp("olive@example.com", "Olive", async ({ b, server }) => {
    await createSpec(b, TITLE);

    // Invite from the member list: the code is shown once.
    await (await b.$("[data-testid=members-open]")).click();
    await until(b, async () => (await texts(b, "[data-testid=member-row]")).some((t) => t.includes("olive@example.com")), "the member list");
    await (await b.$("[data-testid=invite-open]")).click();
    await (await b.$("[data-testid=invite-email]")).setValue(CONTRACTOR);
    await (await b.$("[data-testid=invite-send]")).click();
    const codeInput = await b.$("[data-testid=invite-code]");
    await until(b, () => codeInput.isExisting(), "the invite code", 20_000).catch(async (e) => {
      throw new Error(`${e.message}; alerts: ${JSON.stringify(await texts(b, "[role=alert]"))}`);
    });
    const code = await codeInput.getValue();
    const dialog = (await texts(b, "[data-testid=invite-dialog]")).join(" ");
    if (!dialog.includes("contractor") || !/works once/.test(dialog)) throw new Error(`invite dialog: ${dialog}`);
    await (await b.$("button=Done")).click();

    // Inviting someone who is already a member is refused by name.
    await (await b.$("[data-testid=invite-open]")).click();
    await (await b.$("[data-testid=invite-email]")).setValue("olive@example.com");
    await (await b.$("[data-testid=invite-send]")).click();
    await until(b, async () => (await texts(b, "[data-testid=invite-error]")).some((t) => t.includes("already a member")), "the refusal");
    await (await b.$("[data-testid=invite-dialog]").$("button=Cancel")).click();

    // The contractor joins on their own machine (the CLI, another data dir).
    const contractor = tempDir("contractor");
    cli(contractor, ["join", "--server", server.url, "--invite", code, "--email", CONTRACTOR, "--name", "Cal"]);
    await until(b, async () => (await memberRow(b, CONTRACTOR)).isExisting(), "the contractor in the member list", 30_000);

    // A role change reaches the contractor's device, and back.
    for (const role of ["reviewer", "contractor"]) {
      await (await (await memberRow(b, CONTRACTOR)).$("[data-testid=member-role]")).selectByAttribute("value", role);
      await until(b, async () => (await texts(b, "[data-testid=members-notice]")).some((t) => t.includes(`now ${role}`)), `the role ${role}`, 20_000);
      cli(contractor, ["sync", "--no-download"]);
      const seen = JSON.parse(cli(contractor, ["--json", "members"])).find((m) => m.email === CONTRACTOR);
      if (seen?.role !== role) throw new Error(`the contractor's device shows role ${seen?.role}, not ${role}`);
    }

    // The owner assigns the spec; the contractor delivers.
    await (await b.$("ul.specs button[role=option]")).click();
    await until(b, async () => (await texts(b, "article.spec h1")).some((t) => t.startsWith(TITLE)), "the spec again");
    await (await b.$("input[aria-label='Assign by email']")).setValue(CONTRACTOR);
    await (await b.$("button=Assign")).click();
    await until(b, async () => (await texts(b, "article.spec .chip")).some((t) => t.includes(CONTRACTOR)), "the assignee shown");
    // The app syncs the assignment in the background; the contractor syncs until it arrives.
    await until(
      b,
      async () => {
        cli(contractor, ["sync", "--no-download"]);
        return specsOf(contractor).includes(TITLE);
      },
      "the spec on the contractor's machine",
      30_000,
    );
    const work = join(tempDir("work"), "delivery");
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "importer.py"), FILE);
    const spec = JSON.parse(cli(contractor, ["--json", "spec", "list"])).find((s) => s.title === TITLE).id;
    cli(contractor, ["deliver", spec, work, "--note", "first cut"]);
    cli(contractor, ["sync"]);
    const hash = createHash("sha256").update(FILE).digest("hex");
    const signIn = await http(`${server.url}/v1/auth/login`, "POST", null, { email: CONTRACTOR, password: PASSWORD, device_name: "e2e probe" });
    const token = JSON.parse(signIn.text).token;
    const before = await http(`${server.url}/v1/blobs/${hash}`, "GET", token);
    if (before.status !== 200) throw new Error(`the contractor cannot read their own delivery: ${before.status} ${before.text}`);

    // The owner ends the engagement from the spec.
    await (await b.$("[data-testid=end-engagement]")).click();
    const ending = await b.$(`[data-testid=ending-contractor][data-email="${CONTRACTOR}"]`);
    await until(b, () => ending.isExisting(), "the contractor in the confirmation");
    if (!(await (await ending.$("[data-testid=remove-from-workspace]")).isSelected())) throw new Error("removal is not offered ticked");
    await (await b.$("[data-testid=end-engagement-confirm]")).click();
    await until(b, async () => (await texts(b, "[data-testid=end-engagement-done]")).some((t) => t.includes("removed from the workspace")), "the engagement ended", 20_000).catch(
      async (e) => {
        throw new Error(`${e.message}; dialog: ${JSON.stringify(await texts(b, "[data-testid=end-engagement-dialog]"))}`);
      },
    );
    const dialogBox = await b.$("[data-testid=end-engagement-dialog]");
    const exportParent = tempDir("export");
    await (await dialogBox.$("[data-testid=export-record]")).click();
    await (await dialogBox.$("[data-testid=export-folder]")).setValue(exportParent);
    await (await dialogBox.$("[data-testid=export-run]")).click();
    await until(b, async () => (await dialogBox.$("[data-testid=export-done]")).isExisting(), "the export", 20_000).catch(async (e) => {
      throw new Error(`${e.message}; alerts: ${JSON.stringify(await texts(b, "[role=alert]"))}`);
    });
    const exported = readdirSync(exportParent).map((d) => join(exportParent, d));
    if (exported.length !== 1 || !existsSync(join(exported[0], "manifest.json"))) throw new Error(`export wrote ${JSON.stringify(exported)}`);
    await (await dialogBox.$("button=Done")).click();
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the end synced");
    await until(b, async () => (await (await b.$("article.spec [data-status]")).getAttribute("data-status")) === "closed", "the spec closed");

    // The contractor's next sync loses the spec; their account reads none of its files.
    cli(contractor, ["sync", "--no-download"]);
    if (specsOf(contractor).includes(TITLE)) throw new Error("the removed contractor still has the spec");
    const after = await http(`${server.url}/v1/blobs/${hash}`, "GET", token);
    if (after.status !== 404) throw new Error(`a removed contractor reads the delivery: ${after.status}`);
    await (await b.$("[data-testid=members-open]")).click();
    await until(b, async () => !(await (await memberRow(b, CONTRACTOR)).isExisting()), "the contractor gone from the member list", 20_000);

    // Another machine, with the server gone, imports the record the owner exported.
    await stopServer(server);
    const archive = tempDir("archive");
    const imported = cli(archive, ["import", exported[0]]);
    if (!specsOf(archive).includes(TITLE)) throw new Error(`the import shows ${specsOf(archive)}: ${imported}`);
  }),
);
