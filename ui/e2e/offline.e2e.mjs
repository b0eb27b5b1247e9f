// Work goes on while the server is down: the pending count rises, then drains to 0 once the
// server is back, without anyone pressing a button.
import { scenario } from "./lib.mjs";
import { createSpec, stopServer, untilBar, withJoinedApp } from "./server.mjs";

scenario("offline work drains when the server returns", () =>
  withJoinedApp("ana@example.com", "Ana", async (ctx) => {
    const { b } = ctx;
    await createSpec(b, "Before the outage");
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the first spec synced");

    await stopServer(ctx.server);
    await createSpec(b, "During the outage 1");
    await createSpec(b, "During the outage 2");
    const down = await untilBar(b, (s) => s.online === "false" && s.pending >= 2, "offline with pending changes");
    console.log(`offline: ${down.text}`);

    const t0 = Date.now();
    await ctx.restartServer();
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the pending count drained to 0", 45_000);
    console.log(`drained ${Date.now() - t0} ms after the server came back`);
  }),
);
