// Words for the sync bar, the account screen and the attention list. Pure: tested without a DOM.
import type { DownloadsStatus, SyncProgress, SyncState } from "../ipc";
import { formatBytes } from "../util/time";

// Error wording lives in ../ipc/errorText; these are re-exported for the sync bar.
export { accountErrorMessage, needsSignIn, syncErrorMessage, type AccountAction } from "../ipc/errorText";

/** "3 changes waiting to sync", or the all-clear for a synced or local-only store. */
export function pendingText(pending: number, connected: boolean): string {
  if (pending === 0) return connected ? "All changes synced" : "All changes saved locally";
  return `${pending} change${pending === 1 ? "" : "s"} waiting to sync`;
}

/** The connection as one word for the sync bar. */
export function connectionText(server: string | null, state: SyncState | null, online: boolean | null): string {
  if (!server) return "Local only (not connected to a server)";
  if (state && !state.signed_in) return `Signed out of ${server}`;
  if (online === false) return `Offline · ${server}`;
  if (online === true) return `Online · ${server}`;
  return `Connecting · ${server}`;
}

/** A short line for a running round. */
export function progressText(p: SyncProgress): string {
  switch (p.kind) {
    case "pushed":
      return `Sending changes ${p.done}/${p.total}`;
    case "pulled":
      return `Received ${p.records} update${p.records === 1 ? "" : "s"}`;
    case "uploading":
      return `Uploading ${percent(p.done, p.total)}`;
    case "downloading":
      return `Downloading ${percent(p.done, p.total)}`;
    case "revision_files":
      return `Downloading revision ${p.revision} of “${p.spec_title}”: ${formatBytes(p.done)} of ${formatBytes(p.total)}`;
  }
}

/**
 * What is left to download, and what the download limit holds back, for the sync bar; null
 * when every revision within the limit is here.
 */
export function downloadsText(d: DownloadsStatus | null | undefined): string | null {
  if (!d) return null;
  const parts: string[] = [];
  const first = d.queued[0];
  if (first) {
    const left = d.queued.reduce((sum, r) => sum + Math.max(0, r.bytes_total - r.bytes_here), 0);
    parts.push(
      d.queued.length === 1
        ? `Revision ${first.revision} of “${first.spec_title}” to download (${formatBytes(left)})`
        : `${d.queued.length} revisions to download (${formatBytes(left)})`,
    );
  }
  if (d.held_back.length > 0) {
    const held = d.held_back.reduce((sum, r) => sum + Math.max(0, r.bytes_total - r.bytes_here), 0);
    parts.push(
      `${d.held_back.length} revision${d.held_back.length === 1 ? "" : "s"} (${formatBytes(held)}) over the ${formatBytes(d.limit_bytes)} download limit: opened on demand`,
    );
  }
  return parts.length > 0 ? parts.join(" · ") : null;
}

function percent(done: number, total: number): string {
  if (total <= 0) return formatBytes(done);
  return `${Math.min(100, Math.floor((done * 100) / total))}% of ${formatBytes(total)}`;
}

/**
 * Why `url` cannot be a server address, or null when it looks like one (http or https, a
 * host, nothing after the path). The server's answer is checked afterwards by the app.
 */
export function serverUrlProblem(url: string): string | null {
  const u = url.trim();
  if (!u) return "Enter the server's address, like https://handoff.example.com.";
  let parsed: URL;
  // Not IPC, so not attempt(): the URL constructor is the parser, and it throws on non-URLs.
  try {
    parsed = new URL(u);
  } catch {
    return `“${u}” is not an address: it must look like https://handoff.example.com.`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "The address must start with http:// or https://.";
  if (!parsed.hostname) return "The address has no host name.";
  if (parsed.search || parsed.hash) return "The address must not have a ?query or #fragment.";
  return null;
}
