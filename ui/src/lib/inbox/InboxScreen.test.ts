import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Inbox, InboxGroup, InboxItem, SpecId } from "../ipc";
import InboxScreen from "./InboxScreen.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

const BUSY = "busy" as SpecId;

const item = (seq: number): InboxItem => ({
  spec_id: BUSY,
  seq,
  n: 0,
  at: seq,
  actor: "carlos@wedge.io",
  actor_name: "Carlos",
  event: { kind: "thread_opened", thread_id: `t${seq}` as never, question: false },
  text: `Carlos opened thread ${seq}`,
  quote: null,
  local_time: "Sat 03:05",
  sender_time: null,
  unread: true,
  handoff: false,
});

// The newest two of five unread items listed; three earlier, and two specs left out.
const group = (seqs: number[], more: number): InboxGroup => ({
  spec_id: BUSY,
  title: "Invoice export",
  status: "in_review",
  unread: 5,
  more,
  items: seqs.map(item),
});
const INBOX: Inbox = { unread: 7, groups: [group([5, 4], 3)], more_specs: 2 };

describe("InboxScreen", () => {
  it("says what the bounded inbox left out and loads a spec's earlier items when asked", async () => {
    const calls: [string, unknown][] = [];
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args]);
        if (cmd === "inbox") return INBOX;
        if (cmd === "inbox_spec") return group([5, 4, 3, 2, 1], 0);
        if (cmd === "notice_plan") return { due: [], held: 0, held_until: null };
        if (cmd === "holds_notices") return true;
        return null;
      },
      { shouldMockEvents: true },
    );
    render(InboxScreen, { onopen: () => {} });
    expect(await screen.findByTestId("inbox-earlier")).toHaveTextContent("3 earlier unread items");
    expect(screen.getByTestId("inbox-more-specs")).toHaveTextContent("2 more specs have older unread items not listed here");
    expect(screen.getAllByTestId("inbox-item")).toHaveLength(2);
    expect(screen.getByTestId("inbox-group")).toHaveTextContent("5 unread");

    await fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await screen.findByText("Carlos opened thread 1");
    expect(screen.getAllByTestId("inbox-item")).toHaveLength(5);
    expect(screen.queryByTestId("inbox-earlier")).toBeNull();
    expect(calls.find(([c]) => c === "inbox_spec")?.[1]).toEqual({ spec_id: BUSY, all: false });
  });
});
