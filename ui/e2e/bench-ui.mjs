// `cargo xtask bench ui`: measures the release app under Xvfb through WebDriver. Not a test:
// it prints figures beside their goals and asserts nothing about time.
//
// HANDOFF_BENCH_MODE=diff: a data dir whose one spec has the whatwg pair as revisions 1 and 2.
//   cold start, IPC round trip of a reply, the diff's first rows after the click, frame times
//   while scrolling it top to bottom (and the CPU each frame cost, per process and thread),
//   total RSS (app + WebKit processes) before and with it open: right after the scroll, and
//   once it has settled; last, the same scroll over an empty scroller of the same size (the
//   frame pacing this WebKitGTK and Xvfb give with nothing to do).
// HANDOFF_BENCH_MODE=workspace: a 1,000-spec / 100,000-comment store; cold start and total RSS.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { startApp, stop, until } from "./lib.mjs";

const mode = process.env.HANDOFF_BENCH_MODE ?? "diff";
/** A spec in the list. */
const SPEC_ROW = '//ul[@aria-label="Specs"]//button';
const outFile = process.env.HANDOFF_BENCH_OUT;
const appPath = process.env.HANDOFF_APP;

/** The app's process id: the process whose executable is the app binary. */
function appPid() {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/exe`) === appPath) return Number(d);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no running process of ${appPath}`);
}

/** Every process below `pid` (WebKit's web and network processes), and `pid`. */
function family(pid) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, p] of parent) if (p === out[i]) out.push(child);
  return out;
}

/** Total resident memory of the app and every process it started, in MiB. */
function totalRssMiB(pid) {
  let kib = 0;
  for (const p of family(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

/**
 * Proportional set size of the app and its processes, in MiB: shared pages (the WebKit and
 * GTK libraries every process maps) counted once in all instead of once per process.
 */
function totalPssMiB(pid) {
  let kib = 0;
  for (const p of family(pid)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"));
      if (m) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

/** Resident memory per process name (the app, WebKitWebProcess, WebKitNetworkProcess, …), RSS/PSS in MiB. */
function rssByProcess(pid) {
  const out = {};
  for (const p of family(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? String(p);
      const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      let pss = 0;
      try {
        pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"))?.[1] ?? 0);
      } catch {
        // not ours to read
      }
      const seen = out[name] ?? { rss: 0, pss: 0 };
      out[name] = { rss: seen.rss + kib / 1024, pss: seen.pss + pss / 1024 };
    } catch {
      // gone
    }
  }
  return Object.entries(out)
    .filter(([, m]) => m.rss > 1)
    .map(([name, m]) => `${name} ${m.rss.toFixed(0)}/${m.pss.toFixed(0)}`)
    .join(", ");
}

/** The name and the CPU ticks (user + system) in a /proc `stat` file. */
function readStat(path) {
  const stat = readFileSync(path, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), ticks: Number(f[11]) + Number(f[12]) };
}

/**
 * CPU time (user + system, ms) of every process below `pid` whose name starts with `name`:
 * the work a scroll costs, which (unlike frame intervals) another busy process cannot inflate.
 * With `thread`, only those processes' threads whose name starts with it: the page's main
 * thread against the highlighter's worker, which runs beside it.
 */
function cpuMs(pid, name, thread = null) {
  let ticks = 0;
  for (const p of family(pid)) {
    try {
      const proc = readStat(`/proc/${p}/stat`);
      if (!proc.comm.startsWith(name)) continue;
      if (thread === null) {
        ticks += proc.ticks;
        continue;
      }
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const task = readStat(`/proc/${p}/task/${t}/stat`);
        if (task.comm.startsWith(thread)) ticks += task.ticks;
      }
    } catch {
      // gone
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * Milliseconds since the epoch at which a process started: its start in clock ticks after boot,
 * set against the time since boot now. (`btime` in /proc/stat is the boot time in whole
 * seconds: adding ticks to it put the boot's fraction of a second, anything up to 1,000 ms
 * and the same for every run on one machine, into every cold start this bench measured
 * before session 12.)
 */
function startedAtMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  const uptimeS = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const now = Date.now();
  return now - (uptimeS * 1000 - ticks * 10); // USER_HZ is 100 on Linux
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const lines = [];
function report(what, value, unit, goal) {
  const v = typeof value === "number" ? value.toFixed(1) : value;
  lines.push(`${what.padEnd(58)} ${String(v).padStart(9)} ${unit.padEnd(4)} ${goal ? `(goal ${goal})` : ""}`);
  console.log(lines[lines.length - 1]);
}

/** How many times the app is started for the cold-start figure (each a new process). */
const COLD_STARTS = Number(process.env.HANDOFF_BENCH_COLD_STARTS ?? 7);

/** One start: from the process's start to the first contentful paint of the app's shell. */
async function startTimings(b, pid) {
  const t = await b.execute(() => {
    const fcp = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint");
    const nav = performance.getEntriesByType("navigation")[0];
    return {
      origin: performance.timeOrigin,
      response: nav ? nav.responseEnd : 0,
      loaded: nav ? nav.domContentLoadedEventEnd : 0,
      painted: fcp ? fcp.startTime : performance.now(),
    };
  });
  const start = startedAtMs(pid);
  return { total: t.origin + t.painted - start, navigation: t.origin - start, ...t };
}

/** Waits until process `pid` has exited, so the next start is a new process. */
async function exited(pid) {
  for (let i = 0; i < 100; i++) {
    try {
      readFileSync(`/proc/${pid}/stat`);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the app (pid ${pid}) did not exit within 10 s of its session's end`);
}

/**
 * Cold start: the app started `COLD_STARTS` times; reports the median start, the range and where
 * the median one's time went. Returns the last start's session and process, still running.
 */
async function coldStarts(label) {
  const runs = [];
  for (;;) {
    const b = await startApp();
    let pid;
    try {
      pid = appPid();
      runs.push(await startTimings(b, pid));
    } catch (e) {
      await stop(b);
      throw e;
    }
    if (runs.length >= COLD_STARTS) {
      const sorted = [...runs].sort((x, y) => x.total - y.total);
      const t = sorted[Math.floor((sorted.length - 1) / 2)];
      report(`cold start to the first screen (${label}), median of ${runs.length}`, t.total, "ms", "≤ 500 ms");
      report(`  each start (its navigation's start): ${runs.map((r) => `${r.total.toFixed(0)} (${r.navigation.toFixed(0)})`).join(", ")} ms`, "", "");
      // Where the median start's time went: the native side until the page's navigation
      // starts (GTK, the store, WebKit's processes), then the page itself.
      report("  process start → page navigation starts", t.navigation, "ms");
      report("  → page HTML received", t.response, "ms");
      report("  → scripts run (DOMContentLoaded end)", t.loaded, "ms");
      report("  → first contentful paint", t.painted, "ms");
      return { b, pid };
    }
    await stop(b);
    await exited(pid);
  }
}

async function ipcRoundTrip(b) {
  const times = await b.executeAsync(async (done) => {
    const invoke = window.__TAURI_INTERNALS__.invoke;
    const specs = await invoke("list_specs", { workspace_id: null });
    const detail = await invoke("spec_detail", { spec_id: specs[0].id });
    const thread = detail.threads[0].thread.id;
    const out = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await invoke("reply", { spec_id: specs[0].id, thread_id: thread, body: `bench reply ${i}` });
      out.push(performance.now() - t);
    }
    done(out);
  });
  times.sort((x, y) => x - y);
  report("IPC round trip of a reply, p50 (200 replies)", pct(times, 50), "ms");
  report("IPC round trip of a reply, p95", pct(times, 95), "ms", "≤ 5 ms");
  // The floor under it: a command that reads one setting and writes nothing.
  const floor = await b.executeAsync(async (done) => {
    const invoke = window.__TAURI_INTERNALS__.invoke;
    const out = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await invoke("download_limit");
      out.push(performance.now() - t);
    }
    done(out);
  });
  floor.sort((x, y) => x - y);
  report("  IPC round trip of a one-setting read, p50 / p95", `${pct(floor, 50)} / ${pct(floor, 95)}`, "ms");
}

/** Opens the diff of revisions 1 → 2 and times the click until its first rows are painted. */
async function openDiff(b) {
  await (await b.$(SPEC_ROW)).click();
  await until(b, () => b.$("[data-revision='2'] [data-testid=open-diff]").isExisting(), "the revision timeline's diff link", 20_000);
  return b.executeAsync((done) => {
    const link = document.querySelector("[data-revision='2'] [data-testid=open-diff]");
    const t0 = performance.now();
    link.click();
    const check = () => {
      if (document.querySelectorAll("[data-testid=diff-row]").length > 0) {
        // The rows are in the DOM: the next frame paints them.
        requestAnimationFrame(() => done(performance.now() - t0));
      } else {
        requestAnimationFrame(check);
      }
    };
    requestAnimationFrame(check);
  });
}

/** Scrolls `selector` (the diff) from top to bottom a screen per frame; the frame intervals. */
async function scrollFrames(b, selector = "[data-testid=diff-scroll]") {
  await b.setTimeout({ script: 300_000 });
  return b.executeAsync((selector, done) => {
    const scroller = document.querySelector(selector);
    const frames = [];
    let last = null;
    const step = (t) => {
      if (last !== null) frames.push(t - last);
      last = t;
      if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) {
        done({ frames, height: scroller.scrollHeight });
        return;
      }
      scroller.scrollTop += scroller.clientHeight;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }, selector);
}

/**
 * The same scroll over an empty scroller of the diff's size laid over it: the frame pacing
 * this machine's WebKitGTK and Xvfb give with nothing to build or paint, the floor under the
 * diff's figures.
 */
async function emptyScrollFrames(b) {
  await b.execute(() => {
    const diff = document.querySelector("[data-testid=diff-scroll]");
    const r = diff.getBoundingClientRect();
    const empty = document.createElement("div");
    empty.id = "bench-empty-scroller";
    const place = { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` };
    Object.assign(empty.style, place, { position: "fixed", overflow: "auto", background: "white", zIndex: "1000" });
    const tall = document.createElement("div");
    tall.style.height = `${diff.scrollHeight}px`;
    empty.appendChild(tall);
    document.body.appendChild(empty);
  });
  return scrollFrames(b, "#bench-empty-scroller");
}

/** Reports the pacing of `frames`: p50, p95, max and the frames that came late. */
function reportFrames(label, frames, goals) {
  const sorted = [...frames].sort((x, y) => x - y);
  report(`${label} interval p50`, pct(sorted, 50), "ms");
  report(`${label} interval p95`, pct(sorted, 95), "ms", goals ? "≤ 16 ms" : undefined);
  report(`${label} interval max`, sorted[sorted.length - 1], "ms", goals ? "≤ 50 ms" : undefined);
  report(`${label}s over 16.7 ms`, frames.filter((f) => f > 16.7).length, "");
  // WebKit's frame timestamps are whole milliseconds, so a frame on time at 60 Hz reads 16 or
  // 17 ms: one over 17.5 ms is one that came late.
  report(`${label}s over 17.5 ms (late for a 60 Hz period)`, frames.filter((f) => f > 17.5).length, "");
  const counts = new Map();
  for (const f of frames) counts.set(Math.round(f), (counts.get(Math.round(f)) ?? 0) + 1);
  const common = [...counts].sort((x, y) => y[1] - x[1]).slice(0, 6);
  report(`  intervals, most common: ${common.map(([ms, n]) => `${ms} ms ×${n}`).join(", ")}`, "", "");
}

async function main() {
  const { b, pid } = await coldStarts(mode === "diff" ? "one spec" : "1,000 specs");
  try {
    if (mode === "workspace") {
      await until(b, async () => (await b.$$(SPEC_ROW)).length > 0, "the spec list", 60_000);
      await (await b.$(SPEC_ROW)).click();
      await b.pause(3000);
      report("total RSS with the 1,000-spec / 100,000-comment workspace open", totalRssMiB(pid), "MiB", "≤ 250 MB");
      report("total PSS with the 1,000-spec / 100,000-comment workspace open", totalPssMiB(pid), "MiB");
      report(`  by process (RSS/PSS MiB): ${rssByProcess(pid)}`, "", "");
      return;
    }
    await ipcRoundTrip(b);
    await b.pause(2000);
    const before = totalRssMiB(pid);
    const beforePss = totalPssMiB(pid);
    report("total RSS before the diff is open", before, "MiB");
    report("total PSS before the diff is open", beforePss, "MiB");
    report(`  by process (RSS/PSS MiB): ${rssByProcess(pid)}`, "", "");
    report("click to the first diff rows painted (whatwg, 100k lines)", await openDiff(b), "ms", "≤ 300 ms");
    // Once the highlighter has parsed both sides, before any scrolling: what opening costs.
    await until(b, async () => (await b.$$("[data-testid=diff-scroll] [class*=tok-]")).length > 0, "syntax colours", 60_000).catch(() => {});
    await b.pause(1000);
    const coloured = () => b.execute(() => document.querySelectorAll("[data-testid=diff-scroll] [class*=tok-]").length);
    report("syntax-coloured tokens on screen at the top", await coloured(), "");
    report("total RSS with the diff open, before scrolling", totalRssMiB(pid), "MiB");
    report("total PSS with the diff open, before scrolling", totalPssMiB(pid), "MiB");
    report(`  by process (RSS/PSS MiB): ${rssByProcess(pid)}`, "", "");
    const webCpu = cpuMs(pid, "WebKitWebProces");
    const appCpu = cpuMs(pid, "handoff-app");
    const mainCpu = cpuMs(pid, "WebKitWebProces", "WebKitWebProces");
    const workerCpu = cpuMs(pid, "WebKitWebProces", "WebCore: Worker");
    const { frames, height } = await scrollFrames(b);
    const webCpuPerFrame = (cpuMs(pid, "WebKitWebProces") - webCpu) / frames.length;
    const appCpuPerFrame = (cpuMs(pid, "handoff-app") - appCpu) / frames.length;
    const mainCpuPerFrame = (cpuMs(pid, "WebKitWebProces", "WebKitWebProces") - mainCpu) / frames.length;
    const workerCpuPerFrame = (cpuMs(pid, "WebKitWebProces", "WebCore: Worker") - workerCpu) / frames.length;
    report(`scroll frames top to bottom: count (${height} px)`, frames.length, "");
    reportFrames("scroll frame", frames, true);
    report("CPU per scrolled frame: web process (all its threads)", webCpuPerFrame, "ms");
    report("  of which the page's main thread", mainCpuPerFrame, "ms");
    report("  of which the highlighter's worker", workerCpuPerFrame, "ms");
    report("CPU per scrolled frame: app process (row blocks over IPC)", appCpuPerFrame, "ms");
    await b.pause(1000);
    // The highlighter parses as far as asked: the last screen is coloured too.
    report("syntax-coloured tokens on screen at the bottom", await coloured(), "");
    const open = totalRssMiB(pid);
    const openPss = totalPssMiB(pid);
    report("total RSS with the diff open (after scrolling it all)", open, "MiB");
    report("total PSS with the diff open (after scrolling it all)", openPss, "MiB");
    report(`  by process (RSS/PSS MiB): ${rssByProcess(pid)}`, "", "");
    report("RSS growth with the diff open, right after scrolling", open - before, "MiB", "≤ 150 MB");
    report("PSS growth with the diff open, right after scrolling", openPss - beforePss, "MiB");
    // Right after a scroll through 100k rows the web process still holds the garbage of the
    // rows that went by, until its collector and allocator give it back. What the open diff
    // itself keeps is read once the total has not fallen for 3 s (sampled each second), at
    // most 20 s after the scroll.
    let settled = open;
    let steady = 0;
    let waited = 0;
    while (steady < 3 && waited < 20) {
      await b.pause(1000);
      waited++;
      const now = totalRssMiB(pid);
      steady = now > settled - 1 ? steady + 1 : 0;
      settled = Math.min(settled, now);
    }
    report(`RSS growth with the diff open, settled (${waited} s later)`, settled - before, "MiB", "≤ 150 MB");
    report("PSS growth with the diff open, settled", totalPssMiB(pid) - beforePss, "MiB");
    report(`  by process (RSS/PSS MiB): ${rssByProcess(pid)}`, "", "");
    // Last, so that the memory figures above are the diff's alone.
    const empty = await emptyScrollFrames(b);
    report(`reference: an empty scroller of the same size, ${empty.frames.length} frames`, "", "");
    reportFrames("empty scroll frame", empty.frames, false);
  } finally {
    if (outFile) writeFileSync(outFile, `${lines.join("\n")}\n`);
    await stop(b);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench-ui (${mode}) failed: ${e.stack ?? e}`);
    process.exit(1);
  },
);
