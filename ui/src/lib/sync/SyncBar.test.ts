import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import SyncBar from "./SyncBar.svelte";
import type { StoreStatus, SyncState } from "../ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

function status(over: Partial<StoreStatus> = {}): StoreStatus {
  return {
    data_dir: "/tmp/d",
    client_id: "0190e0e0-0000-7000-8000-000000000009",
    identity: "ana@example.com",
    workspaces: 1,
    specs: 2,
    pending: 0,
    attention: 0,
    blobs: 0,
    blob_bytes: 0,
    server: "http://127.0.0.1:7000",
    last_sync: null,
    online: true,
    ...over,
  };
}

const signedIn: SyncState = { signed_in: true, online: true, pending: 0, attention: 0, last_sync: null, error: null, downloads: null, download_error: null };

describe("SyncBar", () => {
  it("shows offline, the pending count and an attention badge that opens the list", async () => {
    mockIPC((cmd) => {
      if (cmd === "status") return status({ pending: 3, attention: 2, online: false });
      if (cmd === "sync_state") return { ...signedIn, online: false };
    });
    const onopenattention = vi.fn();
    render(SyncBar, { onopenattention });
    expect(await screen.findByText("3 changes waiting to sync")).toHaveAttribute("data-pending", "3");
    expect(screen.getByTestId("connection")).toHaveTextContent("Offline · http://127.0.0.1:7000");
    await fireEvent.click(screen.getByTestId("attention-badge"));
    expect(onopenattention).toHaveBeenCalled();
  });

  it("follows sync-state and progress events", async () => {
    let pending = 2;
    mockIPC(
      (cmd) => {
        if (cmd === "status") return status({ pending });
        if (cmd === "sync_state") return signedIn;
      },
      { shouldMockEvents: true },
    );
    render(SyncBar);
    expect(await screen.findByText("2 changes waiting to sync")).toBeInTheDocument();
    await emit("sync-progress", { kind: "pushed", done: 1, total: 2 });
    expect(await screen.findByTestId("sync-progress")).toHaveTextContent("Sending changes 1/2");
    pending = 0;
    await emit("sync-state", { ...signedIn, last_sync: Date.now() });
    expect(await screen.findByText("All changes synced")).toBeInTheDocument();
    expect(screen.getByText(/Last sync/)).toBeInTheDocument();
  });

  it("asks to sign in again when the session was revoked", async () => {
    mockIPC((cmd) => {
      if (cmd === "status") return status();
      if (cmd === "sync_state") return { ...signedIn, error: { code: "token_revoked", message: "revoked" } };
    });
    const onopenaccount = vi.fn();
    render(SyncBar, { onopenaccount });
    expect(await screen.findByTestId("sync-error")).toHaveTextContent(/revoked: sign in again/);
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(onopenaccount).toHaveBeenCalled();
  });

  it("syncs on demand", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "status") return status();
      if (cmd === "sync_state" || cmd === "sync_now") return signedIn;
    });
    render(SyncBar);
    await fireEvent.click(await screen.findByRole("button", { name: "Sync now" }));
    await vi.waitFor(() => expect(calls).toContain("sync_now"));
  });

  it("shows revision downloads: progress while they run, then what is left and held back", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "status") return status();
        if (cmd === "sync_state") return signedIn;
      },
      { shouldMockEvents: true },
    );
    render(SyncBar);
    await screen.findByText("All changes synced");
    const spec_id = "0190e0e0-0000-7000-8000-000000000001";
    await emit("sync-progress", { kind: "revision_files", spec_id, spec_title: "Upgrade SQLite", revision: 2, done: 1024 * 1024, total: 4 * 1024 * 1024 });
    expect(await screen.findByTestId("sync-progress")).toHaveTextContent("Downloading revision 2 of “Upgrade SQLite”: 1 MB of 4 MB");
    const held = { spec_id, spec_title: "Upgrade SQLite", revision: 1, bytes_here: 0, bytes_total: 3 * 1024 ** 3, files_missing: 9 };
    await emit("sync-state", {
      ...signedIn,
      downloads: { limit_bytes: 2 * 1024 ** 3, queued: [], held_back: [held] },
      download_error: { code: "disk_full", message: "the disk is full: free some space" },
    });
    expect(await screen.findByTestId("downloads")).toHaveTextContent("1 revision (3 GB) over the 2 GB download limit");
    expect(screen.getByTestId("download-error")).toHaveTextContent("the disk is full");
  });
});
