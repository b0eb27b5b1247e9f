// Sentences for failed commands. A size limit (IpcError.limit, filled by the Rust side from
// handoff-core's validate::limits) is named with the field the user was editing and the
// limit in readable units; the UI keeps the text so it can be trimmed. Pure: tested without a DOM.
import type { IpcError, LimitExceeded } from "./generated";
import { formatBytes } from "../util/time";

function count(n: number): string {
  return new Intl.NumberFormat("en-US").format(n);
}

function amount(n: number, unit: string): string {
  return unit === "bytes" ? formatBytes(n, "en-US") : `${count(n)} ${unit}`;
}

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "Title is too long: 5,000,000 characters; the limit is 200 characters. …" */
export function limitText(limit: LimitExceeded, field?: string): string {
  if (limit.unit === "files") {
    return `This folder holds ${count(limit.actual)} files; a revision holds at most ${count(limit.limit)}. Split it, or list what to leave out in a .handoffignore file.`;
  }
  const name = field ?? capitalized(limit.field);
  return `${name} is too long: ${amount(limit.actual, limit.unit)}; the limit is ${amount(limit.limit, limit.unit)}. Nothing was saved and your text is kept here: shorten it and try again.`;
}

/** The message to show for `e`, naming `field` when a limit was exceeded. */
export function errorText(e: IpcError, field?: string): string {
  return e.limit ? limitText(e.limit, field) : e.message;
}
