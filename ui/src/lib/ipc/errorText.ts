// The UI's one place for error wording: every sentence a failed command shows is chosen
// here from its typed `Code` (generated from handoff-client's `Code`). Nothing else in the
// UI branches on a code (xtask's tidy test holds that). A size limit (IpcError.limit,
// filled by the Rust side from handoff-core's validate::limits) is named with the field the
// user was editing and the limit in readable units; the UI keeps the text so it can be
// trimmed. Pure: tested without a DOM.
import type { Code, IpcError, LimitExceeded } from "./generated";
import { formatBytes } from "../util/time";

const SIGNED_OUT = "You are not signed in to a server. Join a workspace or sign in on the Account screen.";
const NO_KEYCHAIN =
  "No OS keychain is available to keep your sign-in token. Handoff never stores it in its database: start a desktop session with an unlocked keyring (GNOME Keyring or KWallet) and try again.";

/**
 * The app's sentence for each code, or null when the message from the Rust side (which
 * names the spec, the file or the field) says it best. A `Record` over every `Code`: a new
 * code in Rust does not type-check here until it has an entry.
 */
const SENTENCES: Record<Code, string | null> = {
  invalid: null,
  forbidden: null,
  invalid_transition: null,
  not_found: null,
  conflict: null,
  ambiguous: null,
  newer_schema: null,
  disk_full: "The disk is full: nothing was saved. Free some space and try again.",
  store_busy: "Another Handoff (the CLI or a second window) is writing to the store. Try again in a moment.",
  store: null,
  io: null,
  invalid_deliverable: null,
  blob_corrupt: null,
  files_not_here: null,
  download_corrupt: null,
  store_corrupt: null,
  invalid_server_url: null,
  // The client's sentences name the folder and the file.
  export_target_exists: null,
  import_missing_file: null,
  import_changed_file: null,
  import_path_escapes: null,
  import_newer_format: null,
  import_malformed: null,
  spec_archived: "This spec was imported from an export folder: it is a read-only record on this computer.",
  offline:
    "The server does not answer. Check the server address and your connection; everything you do is kept on this computer and syncs when the server is back.",
  connection_refused:
    "Nothing answers at the server's address and port: the server may not be running, or the port is wrong. Check the address; your work is kept.",
  dns_failed: "The server's name does not resolve. Check the address (a typo?) and this computer's network.",
  tls_untrusted: null,
  tls_expired: null,
  tls_wrong_name: null,
  tls_failed: null,
  proxy_failed: null,
  not_signed_in: SIGNED_OUT,
  stuck: null,
  protocol: null,
  download_failed: null,
  http_error: null,
  malformed_request: null,
  unauthorized: "Your session is no longer valid: sign in again.",
  token_expired: "Your session expired. Sign in again.",
  token_revoked: "Your session on this device was revoked. Sign in again.",
  upgrade_required: "The server needs a newer version of Handoff. Update the app; your unsent changes are kept.",
  mutation_gap: null,
  too_large: null,
  // The server's sentence names the wait (sign-in attempts, or a busy server).
  rate_limited: null,
  hash_mismatch: null,
  blobs_missing: null,
  invite_invalid: "This invite code is unknown, already used or expired. Ask whoever invited you for a new one.",
  already_exists: null,
  // The server's sentence says what to do (make another member an owner first).
  last_owner: null,
  quota_exceeded:
    "Your account has uploaded as much as this server allows, so new files are not stored. Ask whoever runs the server to raise your upload quota (handoff-server --upload-quota-gib).",
  no_keychain: NO_KEYCHAIN,
  keychain: null,
  token_file: null,
  no_data_dir: null,
  internal: null,
  error: null,
  unknown: null,
};

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
  if (e.limit) return limitText(e.limit, field);
  return SENTENCES[e.code] ?? e.message;
}

/** Whether `error` means the session is gone and the user must sign in again. */
export function needsSignIn(error: IpcError | null | undefined): boolean {
  if (!error) return false;
  switch (error.code) {
    case "unauthorized":
    case "token_expired":
    case "token_revoked":
    case "not_signed_in":
      return true;
    default:
      return false;
  }
}

/** What the account screen was doing when an error came back. */
export type AccountAction = "join" | "sign_in" | "sign_out" | "change_server";

/** A sentence for a failed account action, naming what to do next. */
export function accountErrorMessage(e: IpcError, action: AccountAction, serverUrl: string): string {
  const where = serverUrl.trim() || "that address";
  if (action === "change_server") {
    if (e.code === "offline" || e.code === "connection_refused") {
      return `The server at ${where} does not answer, so the address was not changed. Check it and try again.`;
    }
    if (e.code === "not_signed_in") return "You are not signed in: use Sign in with the new address instead.";
    if (needsSignIn(e)) {
      return `The server at ${where} does not accept your session: it may be a different server. The address was not changed; to use that server, sign out and sign in there.`;
    }
    return errorText(e);
  }
  switch (e.code) {
    case "offline":
      return `The server at ${where} does not answer. Check the address and your connection, then try again; what you typed is kept.`;
    case "connection_refused":
      return `The server at ${where} does not answer: nothing is listening at that address and port. Is the server running, and is the port right? What you typed is kept.`;
    case "unauthorized":
      return action === "join"
        ? "This email already has an account and the password is wrong. Enter that account's password."
        : "Wrong email or password. Check both and try again.";
    default:
      return errorText(e);
  }
}

/** The sync bar's sentence for a failed round, or null when there is nothing to say. */
export function syncErrorMessage(e: IpcError | null): string | null {
  if (!e) return null;
  switch (e.code) {
    case "offline":
      return "Offline: the server does not answer. Your changes are kept and sync when it is back.";
    case "token_revoked":
      return "Your session was revoked: sign in again to sync.";
    case "token_expired":
    case "unauthorized":
      return "Your session expired: sign in again to sync.";
    default:
      return errorText(e);
  }
}

/** The account screen's warning about the session, or null when it is fine. */
export function sessionProblem(error: IpcError | null | undefined): string | null {
  if (!error) return null;
  return needsSignIn(error) || error.code === "no_keychain" ? syncErrorMessage(error) : null;
}

/** Whether downloading the revision's files (sync) would fix `e`: offer a Download button. */
export function downloadWouldFix(e: IpcError): boolean {
  return e.code === "files_not_here";
}
