import { describe, expect, it } from "vitest";
import { connectionText, pendingText, progressText, serverUrlProblem } from "./syncText";
import type { SyncState } from "../ipc";

const state = (over: Partial<SyncState> = {}): SyncState => ({
  signed_in: true,
  online: true,
  pending: 0,
  attention: 0,
  last_sync: null,
  error: null,
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
