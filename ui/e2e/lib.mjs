// Shared helpers for the app's WebDriver runs (tauri-driver on 127.0.0.1:4544).
// WebKitWebDriver is flaky with page-load waits, so sessions use pageLoadStrategy "none"
// and everything is polled.
import { remote } from "webdriverio";

const app = process.env.HANDOFF_APP;
if (!app) throw new Error("HANDOFF_APP is not set");

/** Starts the app (with `args` on its command line) in a new WebDriver session and waits for its shell. */
export async function startApp(args = []) {
  const t0 = Date.now();
  const browser = await remote({
    hostname: "127.0.0.1",
    port: 4544,
    logLevel: "error",
    connectionRetryCount: 0,
    connectionRetryTimeout: 60_000,
    capabilities: {
      "wdio:enforceWebDriverClassic": true,
      pageLoadStrategy: "none",
      "tauri:options": { application: app, args },
    },
  });
  await browser.setTimeout({ script: 15_000 });
  await until(browser, async () => (await browser.$("header.top").isExisting()), "the app shell", 30_000);
  console.log(`app shell shown ${Date.now() - t0} ms after session start`);
  return browser;
}

/** Polls `check` until it returns true, or fails naming `what`. */
export async function until(browser, check, what, timeout = 10_000) {
  const started = Date.now();
  let last;
  while (Date.now() - started < timeout) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await browser.pause(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** Text of all elements matching `selector`. */
export async function texts(browser, selector) {
  return browser.execute((sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent?.trim() ?? ""), selector);
}

/** Ends the session (the app quits); never throws. */
export async function stop(browser) {
  try {
    await browser.deleteSession();
  } catch (e) {
    console.error(`deleteSession: ${e.message}`);
  }
}

/** Runs `fn`, printing a failure and exiting non-zero. */
export async function scenario(name, fn) {
  try {
    await fn();
    console.log(`PASS ${name}`);
    process.exit(0);
  } catch (e) {
    console.error(`FAIL ${name}: ${e.stack ?? e}`);
    process.exit(1);
  }
}
