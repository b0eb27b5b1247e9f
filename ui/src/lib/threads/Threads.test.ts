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
  thread: { id: "t1", spec_id: SPEC, anchor: { kind: "spec" }, resolved: false, created_by: "ana@example.com", created_at: 1, received_at: 1 },
  events: 0,
  comments: [
    { id: "c1", thread_id: "t1", author: "ana@example.com", body: "Header row?", created_at: 1, edited_at: null, redacted: false, received_at: 1, shown_at: 1, author_clock_off: false },
  ],
  history: [],
  claimed_in: null,
  may_resolve: true,
  question: null,
};

describe("Threads", () => {
  it("shows a handoff's time on its author's clock too, as Rust wrote it", () => {
    mockIPC(() => null);
    const [first] = thread.comments;
    if (!first) throw new Error("the fixture thread has a comment");
    const fromLisbon = { ...first, sender_time: "18:05 Lisbon time · Sat 05:05 for you" };
    render(Threads, { specId: SPEC, threads: [{ ...thread, comments: [fromLisbon] }] });
    expect(screen.getByTestId("sender-time")).toHaveTextContent("(18:05 Lisbon time · Sat 05:05 for you)");
  });

  it("marks a contractor's question as waiting, and an answered one with who answered", () => {
    mockIPC(() => null);
    const waiting = { ...thread, question: { answer: null, open: true } };
    const answered = {
      ...thread,
      thread: { ...thread.thread, id: "t2" },
      question: { answer: { by: "olga@acme.io", at: 1_700_000_000_000 }, open: false },
    };
    render(Threads, { specId: SPEC, threads: [waiting, answered] });
    const marks = screen.getAllByTestId("question");
    expect(marks.map((m) => m.dataset.open)).toEqual(["true", "false"]);
    expect(marks[0]).toHaveTextContent("Question · waiting for an answer");
    expect(marks[1]).toHaveTextContent(/Question · answered by olga@acme\.io, .*2023/);
  });

  it("shows a comment from a far-off clock at the server's time, and says what the author's clock said", () => {
    mockIPC(() => null);
    const [first] = thread.comments;
    if (!first) throw new Error("the fixture thread has a comment");
    const late = { ...first, id: "c2", created_at: 86_400_000, received_at: 1_700_000_000_000, shown_at: 1_700_000_000_000, author_clock_off: true };
    render(Threads, { specId: SPEC, threads: [{ ...thread, comments: [first, late] }] });
    const notes = screen.getAllByTestId("clock-off");
    expect(notes).toHaveLength(1);
    const [note] = notes;
    expect(note).toHaveTextContent("received by the server; the author's clock said Jan 2, 1970");
    expect(note?.closest(".comment")).toHaveTextContent("2023");
  });

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

  it("offers a contractor no Resolve on someone else's thread, and a reviewer Confirm on a claim", async () => {
    mockIPC(() => null);
    const theirs = { ...thread, may_resolve: false };
    const { unmount } = render(Threads, { specId: SPEC, threads: [theirs] });
    expect(screen.queryByRole("button", { name: "Resolve" })).toBeNull();
    unmount();
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    const claimed = { ...thread, claimed_in: 3, history: [{ kind: "claim" as const, by: "cole@example.com", at: 5, revision_id: "r3" }] };
    render(Threads, { specId: SPEC, threads: [claimed] });
    expect(screen.getByTestId("claimed")).toHaveTextContent("Addressed in r3 (claimed)");
    expect(screen.getByText(/cole@example.com claimed it addressed/)).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("confirm-claim"));
    await vi.waitFor(() => expect(calls).toContainEqual(["confirm_claim", { spec_id: SPEC, thread_id: "t1" }]));
  });
});
