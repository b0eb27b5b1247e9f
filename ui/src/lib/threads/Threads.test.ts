import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Threads from "./Threads.svelte";
import type { ThreadView } from "../ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

const thread: ThreadView = {
  thread: { id: "t1", spec_id: SPEC, anchor: { kind: "spec" }, resolved: false, created_by: "ana@example.com", created_at: 1 },
  events: 0,
  comments: [{ id: "c1", thread_id: "t1", author: "ana@example.com", body: "Header row?", created_at: 1, edited_at: null, redacted: false }],
};

describe("Threads", () => {
  it("keeps a huge pasted reply in its box and names the limit", async () => {
    const huge = "pasted ".repeat(500_000);
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "reply")
        throw { code: "invalid", message: "comment is too long", limit: { field: "comment", actual: huge.length, limit: 65_536, unit: "bytes" } };
    });
    render(Threads, { specId: SPEC, threads: [thread] });
    await fireEvent.input(screen.getByLabelText("Reply"), { target: { value: huge } });
    await fireEvent.click(screen.getByRole("button", { name: "Reply" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/^The reply is too long: 3\.3 MB; the limit is 64 KB\./);
    expect((screen.getByLabelText("Reply") as HTMLTextAreaElement).value).toBe(huge);
    await vi.waitFor(() => expect(calls.filter(([c]) => c === "reply")).toHaveLength(1));
  });

  it("keeps a refused question and says why", async () => {
    mockIPC((cmd) => {
      if (cmd === "create_thread") throw { code: "invalid", message: "comment must not be empty" };
    });
    render(Threads, { specId: SPEC, threads: [] });
    await fireEvent.input(screen.getByLabelText("New question"), { target: { value: "   " } });
    await fireEvent.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("comment must not be empty");
    expect(screen.getByLabelText("New question")).toHaveValue("   ");
  });
});
