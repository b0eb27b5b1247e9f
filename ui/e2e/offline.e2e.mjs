// Work goes on while the server is down: the pending count rises, then drains to 0 once the
// server is back, without anyone pressing a button.
import { scenario, startApp, stop } from "./lib.mjs";
import { createSpec, freePort, invite, joinInApp, startServer, stopServer, tempDir, untilBar } from "./server.mjs";

scenario("offline work drains when the server returns", async () => {
  const serverDir = tempDir("server");
  const port = await freePort();
  let server = await startServer(serverDir, port);
  let b = null;
  try {
    b = await startApp();
    await joinInApp(b, server.url, invite(serverDir, "ana@example.com"), "ana@example.com", "Ana");
    await createSpec(b, "Before the outage");
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the first spec synced");

    await stopServer(server);
    await createSpec(b, "During the outage 1");
    await createSpec(b, "During the outage 2");
    const down = await untilBar(b, (s) => s.online === "false" && s.pending >= 2, "offline with pending changes");
    console.log(`offline: ${down.text}`);

    const t0 = Date.now();
    server = await startServer(serverDir, port);
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the pending count drained to 0", 45_000);
    console.log(`drained ${Date.now() - t0} ms after the server came back`);
  } catch (e) {
    console.error(`server log: ${server.log()}`);
    throw e;
  } finally {
    if (b) await stop(b);
    await stopServer(server);
  }
});
