// Join a real server from the app, write a spec, sync; a second client (the CLI) sees it.
import { scenario } from "./lib.mjs";
import { cli, createSpec, invite, tempDir, untilBar, withJoinedApp } from "./server.mjs";

const TITLE = "E2E sync: nightly export";

scenario("a spec made in the app reaches another client", () =>
  withJoinedApp("ana@example.com", "Ana", async ({ b, server, serverDir }) => {
    const t0 = Date.now();
    await createSpec(b, TITLE);
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the spec synced");
    console.log(`spec synced ${Date.now() - t0} ms after joining`);

    const d2 = tempDir("cli");
    const code2 = invite(serverDir, "bo@example.com");
    cli(d2, ["join", "--server", server.url, "--invite", code2, "--email", "bo@example.com", "--name", "Bo"]);
    cli(d2, ["sync"]);
    const list = JSON.parse(cli(d2, ["--json", "spec", "list"]));
    const titles = (Array.isArray(list) ? list : list.specs ?? []).map((s) => s.title);
    if (!titles.includes(TITLE)) throw new Error(`the CLI does not see the spec; it sees ${JSON.stringify(titles)}`);
  }),
);
