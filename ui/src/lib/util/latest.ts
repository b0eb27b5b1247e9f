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
