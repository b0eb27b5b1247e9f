import { describe, expect, it, vi } from "vitest";
import { coalesced, latestOnly } from "./latest";

describe("latestOnly", () => {
  it("drops an older request's late answer once a newer one started", async () => {
    const searches = latestOnly();
    const shown: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const run = async (query: string, wait: Promise<void>) => {
      const isLatest = searches.start();
      await wait;
      if (isLatest()) shown.push(query);
    };
    const older = run("ab", slow);
    await run("abc", Promise.resolve());
    release();
    await older;
    expect(shown).toEqual(["abc"]);
  });
});

describe("coalesced", () => {
  it("runs a burst of calls made during a run as one more run, which sees the newest state", async () => {
    let state = 0;
    const seen: number[] = [];
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const reload = coalesced(async () => {
      const s = state;
      await gate;
      seen.push(s);
    });
    const first = reload();
    const burst = [];
    for (let i = 0; i < 200; i++) {
      state++;
      burst.push(reload());
    }
    release();
    gate = Promise.resolve();
    await Promise.all([first, ...burst]);
    expect(seen).toEqual([0, 200]);
  });

  it("keeps going after a run that throws", async () => {
    let runs = 0;
    const reload = coalesced(async () => {
      runs++;
      if (runs === 1) throw new Error("the store is busy");
    });
    await reload();
    await reload();
    expect(runs).toBe(2);
  });
});

describe("coalesced with a quiet time", () => {
  it("reloads once after a burst goes quiet, and a steady stream still reloads", async () => {
    vi.useFakeTimers();
    try {
      let runs = 0;
      const reload = coalesced(async () => {
        runs++;
      }, 20);
      // A burst: a change every 5 ms for 50 ms; nothing runs until it has been quiet for 20 ms.
      for (let i = 0; i < 10; i++) {
        void reload();
        await vi.advanceTimersByTimeAsync(5);
      }
      expect(runs).toBe(0);
      await vi.advanceTimersByTimeAsync(20);
      expect(runs).toBe(1);
      // A change every 5 ms for a second: it never goes quiet, yet it reloads every 200 ms or so.
      for (let i = 0; i < 200; i++) {
        void reload();
        await vi.advanceTimersByTimeAsync(5);
      }
      expect(runs).toBeGreaterThanOrEqual(5);
      expect(runs).toBeLessThanOrEqual(7);
    } finally {
      vi.useRealTimers();
    }
  });
});
