// Join a real server from the app, write a spec, sync; a second client (the CLI) sees it.
import { scenario, startApp, stop } from "./lib.mjs";
import { cli, createSpec, freePort, invite, joinInApp, startServer, stopServer, tempDir, untilBar } from "./server.mjs";

const TITLE = "E2E sync: nightly export";

scenario("a spec made in the app reaches another client", async () => {
  const serverDir = tempDir("server");
  const server = await startServer(serverDir, await freePort());
  let b = null;
  try {
    const code = invite(serverDir, "ana@example.com");
    b = await startApp();
    const t0 = Date.now();
    await joinInApp(b, server.url, code, "ana@example.com", "Ana");
    console.log(`joined in ${Date.now() - t0} ms`);
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
  } catch (e) {
    console.error(`server log: ${server.log()}`);
    throw e;
  } finally {
    if (b) await stop(b);
    await stopServer(server);
  }
});
