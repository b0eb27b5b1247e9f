// Keeps only the newest of overlapping requests: answers can arrive out of order (a slow
// search for "ab" after a fast one for "abc"), and an older answer must not overwrite a newer.

/** A counter of requests; each `start()` supersedes every earlier one. */
export interface LatestOnly {
  /** Starts a request; the returned check stays true until a newer request starts. */
  start(): () => boolean;
}

export function latestOnly(): LatestOnly {
  let newest = 0;
  return {
    start() {
      const mine = ++newest;
      return () => mine === newest;
    },
  };
}

/**
 * How long a view waits for the store to go quiet before reloading: a burst of changes (a
 * sync round, a person replying fast) re-renders once at its end instead of between every
 * action, where the rendering held up the answer to the next one. Too short to see.
 */
export const SETTLE_MS = 20;

/**
 * Wraps a reload so that calls made while it runs cost one more run, not one each: a burst of
 * store changes (two hundred replies, a sync round) becomes at most the run in flight and one
 * after it, which still sees the newest state. With `quietMs`, each run also waits until no
 * call came for that long (at most ten times as long, so a steady stream still refreshes).
 * The returned promise settles when the run that covers this call has finished.
 */
export function coalesced(run: () => Promise<unknown>, quietMs = 0): () => Promise<void> {
  let loop: Promise<void> | null = null;
  let asked = false;
  let lastAsk = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return () => {
    asked = true;
    lastAsk = Date.now();
    loop ??= (async () => {
      while (asked) {
        if (quietMs > 0) {
          const deadline = Date.now() + quietMs * 10;
          for (;;) {
            const now = Date.now();
            const wait = Math.min(lastAsk + quietMs, deadline) - now;
            if (wait <= 0) break;
            await sleep(wait);
          }
        }
        asked = false;
        try {
          await run();
        } catch {
          // The reload reports its own failures; one that throws must not stop the next.
        }
      }
      loop = null;
    })();
    return loop;
  };
}
