// A revoked token: the app is signed in to a real server; the same user signs in over HTTP
// elsewhere and revokes the app's token. The app says it is signed out and must sign in again,
// keeps the work made meanwhile in its outbox, and after signing in again that work syncs and
// another client sees it. Then the server address is changed: to one that does not answer
// (refused, nothing changes), and to another address of the same server (it keeps syncing).
import { scenario, texts, until } from "./lib.mjs";
import { PASSWORD, cli, createSpec, freePort, invite, tempDir, untilBar, withJoinedApp } from "./server.mjs";

const EMAIL = "ana@example.com";
const DURING = "Written after the token was revoked";

async function http(url, method, token, body) {
  const res = await fetch(url, {
    method,
    // The protocol header is required (crates/handoff-core/src/protocol.rs, PROTOCOL_HEADER).
    headers: { "content-type": "application/json", "handoff-protocol": "1", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

scenario("a revoked token signs the app out, keeps the outbox, and syncs after signing in again", () =>
  withJoinedApp(EMAIL, "Ana", async ({ b, server, serverDir, port }) => {
    await createSpec(b, "Before the revocation");
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the first spec synced");

    // The same account, signed in elsewhere, revokes the app's token.
    const other = await http(`${server.url}/v1/auth/login`, "POST", null, { email: EMAIL, password: PASSWORD, device_name: "e2e laptop" });
    const tokens = await http(`${server.url}/v1/auth/tokens`, "GET", other.token);
    const app = tokens.filter((t) => !t.current);
    if (app.length !== 1) throw new Error(`expected one other token, got ${JSON.stringify(tokens)}`);
    await http(`${server.url}/v1/auth/tokens/${app[0].token_id}`, "DELETE", other.token);

    // Work goes on; the next sync finds the token revoked.
    await createSpec(b, DURING);
    const bar = await untilBar(
      b,
      (s) => s.pending >= 1 && /session was revoked: sign in again/.test(s.text) && /Signed out of/.test(s.text),
      "the signed-out state in the sync bar",
    );
    console.log(`after revocation: ${bar.text}`);
    await (await b.$("[data-testid=sync-bar]").$("button=Sign in")).click();
    await until(b, async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.startsWith("Signed out of")), "the account screen says signed out");
    const problem = (await texts(b, "[data-testid=session-problem]")).join(" ");
    if (!/revoked/.test(problem)) throw new Error(`session problem: ${problem}`);
    const outbox = JSON.parse(cli(process.env.HANDOFF_DATA_DIR, ["--json", "outbox"]));
    const pending = (Array.isArray(outbox) ? outbox : outbox.entries ?? []).filter((e) => e.state === "pending");
    if (pending.length < 1) throw new Error(`the outbox lost the work made while revoked: ${JSON.stringify(outbox).slice(0, 400)}`);

    // Sign in again (email kept by the form): the pending work syncs.
    if ((await (await b.$("input[name=email]")).getValue()) !== EMAIL) throw new Error("the email was not kept");
    await (await b.$("input[name=password]")).setValue(PASSWORD);
    await (await b.$("form[aria-label='Sign in']").$("button=Sign in")).click();
    await until(b, async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.startsWith("Signed in as")), "signed in again");
    await untilBar(b, (s) => s.online === "true" && s.pending === 0, "the pending work synced");

    const d2 = tempDir("cli");
    cli(d2, ["join", "--server", server.url, "--invite", invite(serverDir, "bo@example.com"), "--email", "bo@example.com", "--name", "Bo"]);
    cli(d2, ["sync"]);
    const list = JSON.parse(cli(d2, ["--json", "spec", "list"]));
    const titles = (Array.isArray(list) ? list : list.specs ?? []).map((s) => s.title);
    if (!titles.includes(DURING)) throw new Error(`the other client does not see the spec; it sees ${JSON.stringify(titles)}`);

    // The server address: one that does not answer is refused and nothing changes...
    const field = await b.$("input[name=new-server]");
    await until(b, () => field.isExisting(), "the server address field");
    const dead = `http://127.0.0.1:${await freePort()}`;
    await field.setValue(dead);
    await (await b.$("button=Change address")).click();
    await until(b, async () => /does not answer, so the address was not changed/.test((await texts(b, "[data-testid=server-error]")).join(" ")), "the unreachable address refused", 30_000);
    if ((await field.getValue()) !== dead) throw new Error("the typed address was lost");
    // ...another address of the same server is taken, and syncing goes on there.
    const other_address = `http://localhost:${port}`;
    await field.setValue(other_address);
    await (await b.$("button=Change address")).click();
    await until(b, async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.includes(other_address)), "the new address in use", 30_000);
    await createSpec(b, "After the move");
    await untilBar(b, (s) => s.online === "true" && s.pending === 0 && s.text.includes(other_address), "synced at the new address");
  }),
);
