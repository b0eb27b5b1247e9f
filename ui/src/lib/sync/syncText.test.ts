import { describe, expect, it } from "vitest";
import { connectionText, downloadsText, pendingText, progressText, serverUrlProblem } from "./syncText";
import type { RevisionDownload, SyncState } from "../ipc";

const state = (over: Partial<SyncState> = {}): SyncState => ({
  signed_in: true,
  online: true,
  pending: 0,
  attention: 0,
  last_sync: null,
  error: null,
  downloads: null,
  download_error: null,
  ...over,
});

const revision = (over: Partial<RevisionDownload> = {}): RevisionDownload => ({
  spec_id: "0190e0e0-0000-7000-8000-000000000001",
  spec_title: "Upgrade SQLite",
  revision: 2,
  bytes_here: 3 * 1024 * 1024,
  bytes_total: 10 * 1024 * 1024,
  files_missing: 4,
  ...over,
});

describe("sync bar words", () => {
  it("counts pending changes", () => {
    expect(pendingText(0, true)).toBe("All changes synced");
    expect(pendingText(0, false)).toBe("All changes saved locally");
    expect(pendingText(1, true)).toBe("1 change waiting to sync");
    expect(pendingText(3, true)).toBe("3 changes waiting to sync");
  });
  it("describes the connection", () => {
    expect(connectionText(null, null, null)).toMatch(/Local only/);
    expect(connectionText("http://s", state(), true)).toBe("Online · http://s");
    expect(connectionText("http://s", state(), false)).toBe("Offline · http://s");
    expect(connectionText("http://s", state({ signed_in: false }), null)).toBe("Signed out of http://s");
  });
  it("words progress", () => {
    expect(progressText({ kind: "pushed", done: 2, total: 5 })).toBe("Sending changes 2/5");
    expect(progressText({ kind: "pulled", records: 1 })).toBe("Received 1 update");
    expect(progressText({ kind: "uploading", sha256: "ab".repeat(32), done: 512, total: 1024 })).toMatch(/^Uploading 50% of/);
    expect(
      progressText({
        kind: "revision_files",
        spec_id: "0190e0e0-0000-7000-8000-000000000001",
        spec_title: "Upgrade SQLite",
        revision: 2,
        done: 3.1 * 1024 * 1024,
        total: 10.8 * 1024 * 1024,
      }),
    ).toBe("Downloading revision 2 of “Upgrade SQLite”: 3.1 MB of 10.8 MB");
  });
  it("says what is left to download and what the limit holds back", () => {
    expect(downloadsText(null)).toBeNull();
    expect(downloadsText({ limit_bytes: 1024, queued: [], held_back: [] })).toBeNull();
    expect(downloadsText({ limit_bytes: 2 * 1024 ** 3, queued: [revision()], held_back: [] })).toBe(
      "Revision 2 of “Upgrade SQLite” to download (7 MB)",
    );
    const two = downloadsText({
      limit_bytes: 2 * 1024 ** 3,
      queued: [revision(), revision({ revision: 1, bytes_here: 0, bytes_total: 1024 * 1024 })],
      held_back: [revision({ revision: 1, spec_title: "Huge", bytes_here: 0, bytes_total: 3 * 1024 ** 3 })],
    });
    expect(two).toBe("2 revisions to download (8 MB) · 1 revision (3 GB) over the 2 GB download limit: opened on demand");
  });
});

describe("serverUrlProblem", () => {
  it("accepts http and https addresses and explains anything else", () => {
    expect(serverUrlProblem("https://handoff.example.com")).toBeNull();
    expect(serverUrlProblem(" http://127.0.0.1:8470/ ")).toBeNull();
    expect(serverUrlProblem("")).toMatch(/Enter the server's address/);
    expect(serverUrlProblem("handoff.example.com")).toMatch(/is not an address/);
    expect(serverUrlProblem("ftp://example.com")).toMatch(/http:\/\/ or https:\/\//);
    expect(serverUrlProblem("https://example.com/?x=1")).toMatch(/query/);
  });
});
