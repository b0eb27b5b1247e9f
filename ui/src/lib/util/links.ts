// Which clicked links leave the app, and where to: only http, https and mailto addresses are
// offered to the system browser (the opener permission allows exactly those); anything else
// (file:, data:, custom schemes) is not opened at all.

/** Schemes a link may open in the system browser. */
export const EXTERNAL_SCHEMES = ["http:", "https:", "mailto:"] as const;

/** What clicking a link should do: stay in the app, offer the address, or nothing. */
export type LinkAction = { kind: "in-app" } | { kind: "external"; url: string } | { kind: "refused"; url: string };

/**
 * Classifies `href` as resolved against the app page `base`: a fragment or page of the app
 * itself stays in the app, an http(s)/mailto address goes to the system browser after the
 * person confirms it, and everything else is refused.
 */
export function linkAction(href: string, base: string): LinkAction {
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return { kind: "refused", url: href };
  }
  if (url.origin === new URL(base).origin && url.protocol === new URL(base).protocol) return { kind: "in-app" };
  if ((EXTERNAL_SCHEMES as readonly string[]).includes(url.protocol)) return { kind: "external", url: url.href };
  return { kind: "refused", url: url.href };
}
