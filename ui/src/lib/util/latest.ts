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
 * Wraps a reload so that calls made while it runs cost one more run, not one each: a burst of
 * store changes (two hundred replies, a sync round) becomes at most the run in flight and one
 * after it, which still sees the newest state. The returned promise settles when the run that
 * covers this call has finished.
 */
export function coalesced(run: () => Promise<unknown>): () => Promise<void> {
  let loop: Promise<void> | null = null;
  let asked = false;
  return () => {
    asked = true;
    loop ??= (async () => {
      while (asked) {
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
