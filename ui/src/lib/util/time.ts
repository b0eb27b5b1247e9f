// Times in the viewer's time zone, always with an explicit locale (WebKitGTK with LANG unset
// otherwise formats without separators).

/** The locale used for all formatting: the browser's first preference, else en-US. */
export function viewerLocale(): string {
  const langs = typeof navigator !== "undefined" ? navigator.languages : undefined;
  const first = langs && langs.length > 0 ? langs[0] : undefined;
  try {
    return first ? Intl.getCanonicalLocales(first)[0] ?? "en-US" : "en-US";
  } catch {
    return "en-US";
  }
}

/** The viewer's IANA time zone. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** "28 Nov 2026, 17:59" style, in `timeZone`. */
export function formatTime(ms: number, locale = viewerLocale(), timeZone = viewerTimeZone()): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(ms));
}

/** "5 minutes ago" style relative to `now`. */
export function formatRelative(ms: number, now = Date.now(), locale = viewerLocale()): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const diff = (ms - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), "second");
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  return rtf.format(Math.round(diff / 86400), "day");
}

/** Bytes as "1.2 MB". */
export function formatBytes(n: number, locale = viewerLocale()): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}
