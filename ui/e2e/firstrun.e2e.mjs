// The first run as `cargo xtask run` starts it: a local server with a one-time owner invite
// handed to the app on its command line. The app opens on the account screen with everything
// filled in, the newcomer only chooses a password, and the first spec reaches a second person
// (the CLI on another data dir), who still has it after the server is gone.
import { scenario, startApp, stop, texts, until } from "./lib.mjs";
import { PASSWORD, cli, createSpec, freePort, invite, startServer, stopServer, tempDir } from "./server.mjs";

scenario("a first run joins the local server with only a password", async () => {
  const serverDir = tempDir("server");
  const server = await startServer(serverDir, await freePort());
  const code = invite(serverDir, "owner@localhost");
  const b = await startApp(["--join", server.url, "--invite", code, "--email", "owner@localhost", "--name", "Ana"]);
  const title = "The first spec of a first run";
  try {
    await until(
      b,
      async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.includes("choose a password")),
      "the welcome on the account screen",
      20_000,
    );
    for (const [name, want] of [["server", server.url], ["invite", code], ["email", "owner@localhost"], ["name", "Ana"]]) {
      const got = await (await b.$(`input[name=${name}]`)).getValue();
      if (got !== want) throw new Error(`${name} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
    }
    // Only the password is typed.
    await (await b.$("input[name=password]")).setValue(PASSWORD);
    await (await b.$("button=Join")).click();
    await until(
      b,
      async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.startsWith("Signed in as owner@localhost")),
      "signed in",
      30_000,
    );
    await createSpec(b, title);

    // A second person on another machine joins with the CLI and receives it.
    const reviewer = tempDir("reviewer");
    cli(reviewer, ["join", "--server", server.url, "--invite", invite(serverDir, "rita@example.com", "reviewer"), "--email", "rita@example.com", "--name", "Rita", "--insecure-token-file"]);
    let listed = "";
    const deadline = Date.now() + 30_000;
    while (!listed.includes(title)) {
      if (Date.now() > deadline) throw new Error(`the reviewer never received the spec; their list: ${listed}`);
      cli(reviewer, ["sync", "--no-download"]);
      listed = cli(reviewer, ["spec", "list"]);
    }
    await stopServer(server);
    const offline = cli(reviewer, ["spec", "list"]);
    if (!offline.includes(title)) throw new Error(`with the server gone the reviewer's list lost the spec: ${offline}`);
  } finally {
    await stop(b);
    await stopServer(server);
  }
});
