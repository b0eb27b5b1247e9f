// The size of a scroll container, kept current (ResizeObserver where there is one).

/** Calls `set` with the element's height now and whenever it changes; returns a disposer. */
export function watchHeight(el: HTMLElement, set: (h: number) => void): () => void {
  return watchSize(el, (h) => set(h), "clientHeight");
}

/** Calls `set` with the element's `client*` size now and whenever it changes. */
export function watchSize(el: HTMLElement, set: (px: number) => void, which: "clientHeight" | "clientWidth"): () => void {
  // An element not laid out yet (or a DOM without layout) reports 0: assume a screenful.
  const read = () => set(el[which] || 600);
  read();
  if (typeof ResizeObserver === "undefined") return () => {};
  const ro = new ResizeObserver(read);
  ro.observe(el);
  return () => ro.disconnect();
}
