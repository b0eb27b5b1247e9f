// A real handoff-server and handoff CLI for the sync scenarios (binaries from
// HANDOFF_SERVER_BIN and HANDOFF_CLI_BIN, set by `cargo xtask e2e`).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, stop, texts, until } from "./lib.mjs";

const serverBin = process.env.HANDOFF_SERVER_BIN;
const cliBin = process.env.HANDOFF_CLI_BIN;
if (!serverBin || !cliBin) throw new Error("HANDOFF_SERVER_BIN and HANDOFF_CLI_BIN must be set");

export const PASSWORD = "correct horse battery staple";

/** A fresh temp dir. */
export function tempDir(label) {
  return mkdtempSync(join(tmpdir(), `handoff-e2e-${label}-`));
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Debian's libfaketime (package faketime), preloaded to move a server's clock. */
function libfaketime() {
  const lib = readdirSync("/usr/lib")
    .map((d) => join("/usr/lib", d, "faketime", "libfaketimeMT.so.1"))
    .find((p) => existsSync(p));
  if (!lib) throw new Error("libfaketime is not installed (Debian package faketime)");
  return lib;
}

/**
 * Starts handoff-server on `port` with `dataDir` and waits for /healthz. With `ahead`
 * (`"14h"`), the server's wall clock runs that far ahead of the machine's (libfaketime), so a
 * scenario can put its handoffs hours apart without waiting.
 */
export async function startServer(dataDir, port, { ahead } = {}) {
  const env = ahead
    ? { ...process.env, LD_PRELOAD: libfaketime(), FAKETIME: `+${ahead}`, FAKETIME_DONT_FAKE_MONOTONIC: "1" }
    : process.env;
  const child = spawn(serverBin, ["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir], { stdio: ["ignore", "ignore", "pipe"], env });
  let log = "";
  child.stderr.on("data", (d) => (log = (log + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (Date.now() - started < 20_000) {
    if (child.exitCode !== null) throw new Error(`handoff-server exited (${child.exitCode}): ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`handoff-server did not answer on ${url}: ${log}`);
}

/** Stops a server started with `startServer` and waits for it to exit. */
export async function stopServer(server) {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A one-time invite code for `email` in workspace "Acme". */
export function invite(dataDir, email, role = "owner") {
  return execFileSync(serverBin, ["invite", "--workspace", "Acme", "--role", role, "--email", email, "--data-dir", dataDir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Runs the `handoff` CLI on `dataDir`; returns its standard output. */
export function cli(dataDir, args) {
  return execFileSync(cliBin, ["--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env: { ...process.env, HANDOFF_PASSWORD: PASSWORD },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
}

/** Joins `url` with `code` from the app's account screen and waits until it is signed in. */
export async function joinInApp(b, url, code, email, name) {
  const server = await b.$("input[name=server]");
  if (!(await server.isExisting())) await (await b.$("button=Account")).click();
  await until(b, () => server.isExisting(), "the account screen");
  await server.setValue(url);
  await (await b.$("input[name=invite]")).setValue(code);
  await (await b.$("input[name=email]")).setValue(email);
  await (await b.$("input[name=name]")).setValue(name);
  await (await b.$("input[name=password]")).setValue(PASSWORD);
  await (await b.$("button=Join")).click();
  await until(
    b,
    async () => (await texts(b, "[data-testid=account-summary]")).some((t) => t.startsWith("Signed in as")),
    "signed in",
    30_000,
  ).catch(async (e) => {
    throw new Error(`${e.message}; alerts: ${JSON.stringify(await texts(b, "[role=alert]"))}`);
  });
}

/**
 * Runs `fn(ctx)` with a fresh local server and the app joined to it as `email`. `ctx` holds
 * `b` (the app), `server`, `serverDir`, `port` and `restartServer()` (same port and data).
 * On failure the server's log is printed; the app and the current server are always stopped.
 */
export async function withJoinedApp(email, name, fn) {
  const serverDir = tempDir("server");
  const port = await freePort();
  const ctx = { b: null, server: await startServer(serverDir, port), serverDir, port };
  ctx.restartServer = async () => {
    ctx.server = await startServer(serverDir, port);
  };
  try {
    ctx.b = await startApp();
    const t0 = Date.now();
    await joinInApp(ctx.b, ctx.server.url, invite(serverDir, email), email, name);
    console.log(`joined in ${Date.now() - t0} ms`);
    await fn(ctx);
  } catch (e) {
    console.error(`server log: ${ctx.server.log()}`);
    throw e;
  } finally {
    if (ctx.b) await stop(ctx.b);
    await stopServer(ctx.server);
  }
}

/** Creates a spec titled `title` in the app and waits for its view. */
export async function createSpec(b, title) {
  await (await b.$("button=New spec")).click();
  const input = await b.$("input[name=title]");
  await until(b, () => input.isExisting(), "the new spec form");
  await input.setValue(title);
  await (await b.$("button=Create spec")).click();
  await until(b, async () => (await texts(b, "article.spec h1")).some((t) => t.startsWith(title)), `the spec ${title}`);
}

/** The sync bar's pending count and online flag. */
export async function syncBar(b) {
  return b.execute(() => {
    const bar = document.querySelector("[data-testid=sync-bar]");
    const pending = document.querySelector("[data-testid=pending]");
    return {
      online: bar?.getAttribute("data-online") ?? null,
      pending: pending ? Number(pending.getAttribute("data-pending")) : null,
      text: bar?.textContent?.replace(/\s+/g, " ").trim() ?? "",
    };
  });
}

/** Waits until the sync bar matches `want` (`{online, pending}` predicates). */
export async function untilBar(b, check, what, timeout = 30_000) {
  let last = null;
  await until(
    b,
    async () => {
      last = await syncBar(b);
      return check(last);
    },
    what,
    timeout,
  ).catch((e) => {
    throw new Error(`${e.message}; sync bar: ${JSON.stringify(last)}`);
  });
  return last;
}
