// Times in the viewer's time zone, always with an explicit locale (WebKitGTK with LANG unset
// otherwise formats without separators).

/**
 * Formatters made once per locale, zone and style: making an Intl formatter is far slower in
 * WebKitGTK than using one, and a spec's reload formats a time for every comment.
 */
const formatters = new Map<string, unknown>();
function made<F>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (f === undefined) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}
const dateTime = (locale: string, options: Intl.DateTimeFormatOptions) =>
  made(`dt|${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
const relativeTime = (locale: string) =>
  made(`rt|${locale}`, () => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }));

/** The locale used for all formatting: the browser's first preference, else en-US. */
export function viewerLocale(): string {
  const langs = typeof navigator !== "undefined" ? navigator.languages : undefined;
  const first = langs && langs.length > 0 ? langs[0] : undefined;
  // Synchronous and not IPC, so not attempt(): a malformed browser locale throws RangeError.
  try {
    return first ? Intl.getCanonicalLocales(first)[0] ?? "en-US" : "en-US";
  } catch {
    return "en-US";
  }
}

let zone: { name: string; at: number } | undefined;
/**
 * The viewer's IANA time zone, read again at most once a minute: asking costs a new formatter,
 * and a laptop that flew to another zone is followed within a minute.
 */
export function viewerTimeZone(): string {
  const now = Date.now();
  if (!zone || now - zone.at > 60_000 || now < zone.at) {
    zone = { name: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", at: now };
  }
  return zone.name;
}

/** The largest time a JavaScript Date holds, in ms either side of 1970. */
const MAX_DATE_MS = 8.64e15;

/** Whether `ms` is a time a Date can hold: a time from a client's clock may be anything. */
function representable(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/** Said of a time no calendar can show (a client clock's nonsense), instead of throwing. */
export const UNKNOWN_TIME = "an unknown time";

/** "28 Nov 2026, 17:59" style, in `timeZone`. */
export function formatTime(ms: number, locale = viewerLocale(), timeZone = viewerTimeZone()): string {
  if (!representable(ms)) return UNKNOWN_TIME;
  return dateTime(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(new Date(ms));
}

/** The machine-readable form for a `<time datetime>`, or undefined when there is none. */
export function isoTime(ms: number): string | undefined {
  return representable(ms) ? new Date(ms).toISOString() : undefined;
}

/** "5 minutes ago" style relative to `now`. */
export function formatRelative(ms: number, now = Date.now(), locale = viewerLocale()): string {
  if (!representable(ms)) return UNKNOWN_TIME;
  const rtf = relativeTime(locale);
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
  const digits = i === 0 ? 0 : 1;
  const number = made(`n|${locale}|${digits}`, () => new Intl.NumberFormat(locale, { maximumFractionDigits: digits }));
  return `${number.format(v)} ${units[i]}`;
}

/** Today's calendar date, `YYYY-MM-DD`, in `timeZone` (en-CA formats dates that way). */
export function todayIn(timeZone = viewerTimeZone(), now = new Date()): string {
  return dateTime("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

function utcDay(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(t);
  // Date.UTC rolls 2025-02-30 over to March; a date that does not exist is not a date.
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return null;
  return t;
}

/** How a due date reads for the viewer: the date itself, and how far it is from their today. */
export type DueText = { date: string; relative: string; overdue: boolean };

/**
 * A due date (`YYYY-MM-DD`, a calendar day with no time zone) as the viewer reads it: the
 * date in their locale, and "today", "in 3 days" or "2 days ago" counted from today in their
 * time zone (a contractor 12 hours ahead may already be on the due day). `null` when the text
 * is not a real date.
 */
export function dueText(due: string, locale = viewerLocale(), timeZone = viewerTimeZone(), now = new Date()): DueText | null {
  const day = utcDay(due);
  const today = utcDay(todayIn(timeZone, now));
  if (day === null || today === null) return null;
  const days = Math.round((day - today) / 86_400_000);
  const date = dateTime(locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(day));
  const relative = relativeTime(locale).format(days, "day");
  return { date, relative, overdue: days < 0 };
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** "Tue 14:05": a wall clock Rust read in someone's zone (handoff-core `LocalTime`). */
export function localDayClock(l: { weekday: number; hour: number; minute: number }): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${WEEKDAYS[l.weekday] ?? "?"} ${pad(l.hour)}:${pad(l.minute)}`;
}
