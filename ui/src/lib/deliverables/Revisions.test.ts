import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import Revisions from "./Revisions.svelte";
import { closeDiff, diffRoute } from "../diff/route.svelte";
import type { RevisionSummary } from "../ipc";
import { SPEC, lineThread, review } from "./fixtures";

afterEach(() => {
  cleanup();
  clearMocks();
});

function revision(id: string, number: number): RevisionSummary {
  return {
    id,
    deliverable_id: "d1",
    number,
    number_confirmed: true,
    summary: `rev ${number}`,
    files: 3,
    bytes: 100,
    addresses: [],
    created_by: "dev@example.com",
    created_at: 1_700_000_000_000,
    shown_at: 1_700_000_000_000,
    author_clock_off: false,
  };
}

async function openTypedFolder(path: string) {
  await fireEvent.click(screen.getByRole("button", { name: "or type a folder path" }));
  await fireEvent.input(screen.getByLabelText("Folder to deliver"), { target: { value: path } });
}

describe("Revisions", () => {
  it("shows the server's receive time when the author's clock was far off, and never throws on it", () => {
    mockIPC(() => undefined);
    const backdated = { ...revision("r1", 1), created_at: 9.2e18, shown_at: 1_700_000_000_000, author_clock_off: true };
    render(Revisions, { specId: SPEC, revisions: [backdated, revision("r2", 2)] });
    const [second, first] = screen.getAllByTestId("delivered-at");
    expect(first).toHaveTextContent("received by the server; the author's clock said an unknown time");
    expect(first).toHaveTextContent("2023");
    expect(second).not.toHaveTextContent("received by the server");
  });

  it("shows a review from a far-off clock at the server's time", () => {
    mockIPC(() => undefined);
    const skewed = { ...review("v1", "r1", 9.2e18, "approve"), received_at: 1_700_000_000_000, shown_at: 1_700_000_000_000, author_clock_off: true };
    render(Revisions, { specId: SPEC, revisions: [revision("r1", 1)], reviews: [skewed, review("v2", "r1", 1_700_000_000_000)] });
    const [first, second] = screen.getAllByTestId("reviewed-at");
    expect(first).toHaveTextContent("received by the server; the author's clock said an unknown time");
    expect(first).toHaveTextContent("2023");
    expect(second).not.toHaveTextContent("received by the server");
  });

  it("shows how many files are stored while a large folder is delivered, and stays usable", async () => {
    let finish: (v: RevisionSummary) => void = () => {};
    const calls: [string, unknown][] = [];
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args]);
        if (cmd === "deliver") return new Promise((r) => (finish = r));
      },
      { shouldMockEvents: true },
    );
    render(Revisions, { specId: SPEC, revisions: [] });
    await openTypedFolder("/tmp/big folder");
    await fireEvent.input(screen.getByLabelText("Revision summary"), { target: { value: "All of it" } });
    await fireEvent.click(screen.getByRole("button", { name: "Deliver" }));
    expect(await screen.findByTestId("deliver-progress")).toHaveTextContent("Reading the folder…");
    await emit("deliver-progress", { spec_id: SPEC, stored: 4_000, total: 20_000 });
    await vi.waitFor(() => expect(screen.getByTestId("deliver-progress")).toHaveTextContent("Storing files: 4,000 of 20,000 (20%)"));
    // Progress for another spec's delivery is not this one's.
    await emit("deliver-progress", { spec_id: "other", stored: 1, total: 2 });
    expect(screen.getByTestId("deliver-progress")).toHaveTextContent("4,000 of 20,000");
    expect(calls).toContainEqual(["deliver", { spec_id: SPEC, dir: "/tmp/big folder", summary: "All of it", addresses: [] }]);
    finish(revision("r1", 1));
    await vi.waitFor(() => expect(screen.queryByTestId("deliver-progress")).not.toBeInTheDocument());
    expect(screen.queryByLabelText("Folder to deliver")).not.toBeInTheDocument();
  });

  it("lets the contractor tick the open threads the revision addresses", async () => {
    const calls: [string, unknown][] = [];
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args]);
        return cmd === "deliver" ? revision("r2", 2) : null;
      },
      { shouldMockEvents: true },
    );
    const open = lineThread("t-open", "r1", "src/a.rs", 3);
    const done = { ...lineThread("t-done", "r1", "src/b.rs", 4) };
    done.thread = { ...done.thread, resolved: true };
    render(Revisions, { specId: SPEC, revisions: [revision("r1", 1)], threads: [open, done] });
    await openTypedFolder("/tmp/r2");
    const ticks = screen.getAllByTestId("address-thread");
    expect(ticks).toHaveLength(1);
    expect(ticks[0]).toHaveTextContent("src/a.rs:3");
    await fireEvent.click(within(ticks[0] as HTMLElement).getByRole("checkbox"));
    await fireEvent.click(screen.getByRole("button", { name: "Deliver" }));
    await vi.waitFor(() => expect(calls).toContainEqual(["deliver", { spec_id: SPEC, dir: "/tmp/r2", summary: "", addresses: ["t-open"] }]));
  });

  it("explains a folder over the file limit and keeps the path and summary", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "deliver")
          throw { code: "invalid", message: "revision is too long", limit: { field: "revision", actual: 120_000, limit: 100_000, unit: "files" } };
      },
      { shouldMockEvents: true },
    );
    render(Revisions, { specId: SPEC, revisions: [] });
    await openTypedFolder("/data/huge");
    await fireEvent.input(screen.getByLabelText("Revision summary"), { target: { value: "Everything" } });
    await fireEvent.click(screen.getByRole("button", { name: "Deliver" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This folder holds 120,000 files; a revision holds at most 100,000.");
    expect(screen.getByLabelText("Folder to deliver")).toHaveValue("/data/huge");
    expect(screen.getByLabelText("Revision summary")).toHaveValue("Everything");
  });

  it("shows each revision's reviews and the review threads on its lines", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const rev = review("v1", "r1", 1_700_000_100_000);
    rev.criteria = [
      { criterion_id: "c1", text: "", status: "met", note: "", evidence: null },
      { criterion_id: "c2", text: "", status: "not_met", note: "", evidence: null },
    ];
    render(Revisions, {
      specId: SPEC,
      revisions: [revision("r1", 1), revision("r2", 2)],
      reviews: [rev],
      threads: [lineThread("t1", "r1", "src/main.rs", 12)],
      criteria: [
        { id: "c1", text: "Exports every row" },
        { id: "c2", text: "Quotes commas" },
      ],
    });
    const first = screen.getByText("Revision 1").closest("li");
    const second = screen.getByText("Revision 2").closest("li");
    if (!first || !second) throw new Error("no revisions");
    expect(within(first).getByText("Changes requested")).toBeInTheDocument();
    expect(within(first).getByText("review v1")).toBeInTheDocument();
    expect(within(first).getByText(/✓\s*Exports every row/)).toBeInTheDocument();
    expect(within(first).getByText(/✗\s*Quotes commas/)).toBeInTheDocument();
    const threads = within(first).getByRole("list", { name: "Review threads on revision 1" });
    expect(within(threads).getByRole("button", { name: "src/main.rs:12" })).toBeInTheDocument();
    expect(within(threads).getByText("line 12")).toBeInTheDocument();
    expect(within(second).queryByText("Changes requested")).not.toBeInTheDocument();
  });

  it("links each revision to the changes since the one before it", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    render(Revisions, { specId: SPEC, revisions: [revision("r1", 1), revision("r2", 2), revision("r4", 4)] });
    const li = (n: number) => screen.getByText(`Revision ${n}`).closest("li") as HTMLElement;
    await fireEvent.click(within(li(4)).getByRole("button", { name: "Changes since revision 2" }));
    expect(diffRoute.current).toEqual({ spec_id: SPEC, from: 2, to: 4 });
    await fireEvent.click(within(li(1)).getByRole("button", { name: "View files" }));
    expect(diffRoute.current).toEqual({ spec_id: SPEC, from: 0, to: 1 });
    closeDiff();
  });
});
