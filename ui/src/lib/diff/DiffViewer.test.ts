import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { DiffFile, DiffPair, DiffRow, DiffSummary, FileView, PlacedThread, RevisionSummary, SpecDetail } from "../ipc";
import DiffViewer from "./DiffViewer.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

function revision(number: number): RevisionSummary {
  return {
    id: `r${number}`,
    deliverable_id: "d1",
    number,
    number_confirmed: true,
    summary: "",
    files: 3,
    bytes: 100,
    addresses: [],
    created_by: "dev@example.com",
    created_at: 1_700_000_000_000,
    shown_at: 1_700_000_000_000,
    author_clock_off: false,
  };
}

function detail(): SpecDetail {
  return {
    spec: {
      id: SPEC,
      workspace_id: "w",
      title: "Spec source",
      sections: { system_context: "", api_shape: "", out_of_scope: "", notes: "" },
      criteria: [],
      status: "delivered",
      assignees: [],
      due_date: null,
      created_by: "me@localhost",
      created_at: 1,
      updated_at: 1,
    },
    role: "owner",
    permissions: { edit: true, assign: true, deliver: true, discuss: true, review: true, next_statuses: [], accept_by_override: false, ready_by_override: false, end_engagement: false },
    deliverables: [],
    revisions: [revision(1), revision(2), revision(3)],
    threads: [],
    reviews: [],
    drafts: 0,
    ledger: { revisions: [], rows: [], acceptance: { state: "not_yet", reason: "no revision has been delivered" }, override_: null },
    pending_changes: 0,
    readiness: { checks: [], passed: 0, total: 0 },
    ready_override: null,
  };
}

const side = (path: string, size = 10, sha256 = "aa") => ({ path, size, sha256, executable: false });

const FILES: DiffFile[] = [
  { path: "logo.png", status: "modified", similarity: null, content: "binary", added: 0, removed: 0, mode_changed: false, old: side("logo.png", 2048, "1111"), new: side("logo.png", 4096, "2222") },
  { path: "notes/new.txt", status: "renamed", similarity: 91, content: "text", added: 1, removed: 1, mode_changed: false, old: side("notes/old.txt"), new: side("notes/new.txt") },
  { path: "source.html", status: "modified", similarity: null, content: "text", added: 5, removed: 2, mode_changed: false, old: side("source.html"), new: side("source.html") },
];

function summary(pair: DiffPair, files = FILES): DiffSummary {
  return { pair, files, totals: { files: files.length, added: 6, removed: 3, binary: 1 } };
}

const VIEW: FileView = { total_rows: 6, hunk_rows: [0], old_lines: 10, new_lines: 11, gaps: [4, 2] };

function rows(): DiffRow[] {
  const cell = (line: number, text: string, no_newline = false) => ({ line, text, no_newline, truncated: false, emphasis: [] as [number, number][] });
  return [
    { kind: "hunk", old: null, new: null, marker: { gap: 0, hidden: 4, header: "@@ -5,3 +5,4 @@", hunk: 0 } },
    { kind: "context", old: cell(5, "same"), new: cell(5, "same"), marker: null },
    { kind: "removed", old: cell(6, "old line"), new: null, marker: null },
    { kind: "added", old: null, new: cell(6, "new line"), marker: null },
    { kind: "added", old: null, new: cell(7, "last", true), marker: null },
    { kind: "gap", old: null, new: null, marker: { gap: 1, hidden: 2, header: null, hunk: null } },
  ];
}

type Call = { cmd: string; args: Record<string, unknown> };

let mockPlaced: PlacedThread[] = [];

function mock(calls: Call[], opts: { files?: DiffFile[]; failSummary?: { code: string; message: string } } = {}) {
  let failing = opts.failSummary;
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "spec_detail":
        return detail();
      case "diff_default":
        return { from: 1, to: 3, since_my_review: true };
      case "diff_summary":
        if (failing) throw failing;
        return summary(a.pair as DiffPair, opts.files);
      case "diff_file":
        return VIEW;
      case "diff_rows":
        return (a.start as number) === 0 ? rows() : [];
      case "fetch_revision_files":
        failing = undefined;
        return null;
      case "threads_on_pair":
        return mockPlaced;
      case "drafts":
        return [];
      case "viewed_files":
        return { viewed: [], total: 3 };
      case "diff_rows_of_lines":
        // rows(): new line 6 is row 3, new line 7 row 4.
        return (a.lines as [string, number][]).map(([side, line]) => (side === "new" && line >= 6 && line <= 7 ? line - 3 : null));
    }
    return null;
  });
}

const last = (calls: Call[], cmd: string) => calls.filter((c) => c.cmd === cmd).at(-1)?.args;

describe("DiffViewer", () => {
  it("opens since the reviewer's last review, lists files with status, counts and totals", async () => {
    const calls: Call[] = [];
    mock(calls);
    render(DiffViewer, { props: { target: { spec_id: SPEC } } });
    const list = await screen.findByTestId("diff-files");
    expect(last(calls, "diff_summary")).toEqual({ pair: { spec_id: SPEC, from: 1, to: 3, ignore_whitespace: false } });
    expect(screen.getByText("since your review of revision 1")).toBeInTheDocument();
    const items = within(list).getAllByTestId("diff-file");
    expect(items.map((i) => i.dataset.path)).toEqual(["logo.png", "notes/new.txt", "source.html"]);
    expect(items[1]).toHaveTextContent("renamed 91%");
    expect(items[2]).toHaveTextContent("+5 −2");
    expect(screen.getByTestId("diff-totals")).toHaveTextContent("3 files · +6 −3 · 1 binary");
  });

  it("shows a binary file by size and hash, and fetches no rows for it", async () => {
    const calls: Call[] = [];
    mock(calls);
    render(DiffViewer, { props: { target: { spec_id: SPEC } } });
    const binary = await screen.findByTestId("diff-binary");
    expect(binary).toHaveTextContent("2 KB");
    expect(binary).toHaveTextContent("sha256 2222");
    expect(calls.some((c) => c.cmd === "diff_rows" || c.cmd === "diff_file")).toBe(false);
  });

  it("paints a window of rows with hunk headers, hidden-line counts and a missing final newline", async () => {
    const calls: Call[] = [];
    mock(calls);
    render(DiffViewer, { props: { target: { spec_id: SPEC, from: 2, to: 3, path: "source.html" } } });
    const scroll = await screen.findByTestId("diff-scroll");
    await vi.waitFor(() => expect(scroll.dataset.rowsPainted).toBe("6"));
    expect(last(calls, "diff_rows")).toMatchObject({ file: 2, layout: "unified", start: 0, expanded: [] });
    expect(scroll).toHaveTextContent("@@ -5,3 +5,4 @@");
    expect(scroll).toHaveTextContent("4 unchanged lines");
    expect(scroll).toHaveTextContent("no newline at end of file");
    await fireEvent.click(within(scroll).getAllByRole("button", { name: "All" })[0] as HTMLElement);
    await vi.waitFor(() => expect(last(calls, "diff_file")).toMatchObject({ expanded: [{ gap: 0, top: 4, bottom: 0 }] }));
  });

  it("drafts a comment on lines picked by mouse or keyboard, marks threads and viewed files", async () => {
    const calls: Call[] = [];
    mock(calls);
    // A thread placed on new line 6 of this file, carried from revision 1.
    const base = mockPlaced;
    mockPlaced = [{ thread_id: "t1", made_on: 1, placement: { state: "current", path: "source.html", side: "new", start: 6, end: 6 } }];
    render(DiffViewer, { props: { target: { spec_id: SPEC, from: 2, to: 3, path: "source.html" } } });
    const scroll = await screen.findByTestId("diff-scroll");
    await vi.waitFor(() => expect(scroll.dataset.rowsPainted).toBe("6"));
    await vi.waitFor(() => expect(within(scroll).getAllByTestId("thread-mark")).toHaveLength(1));
    // The thread's card is drawn between the rows, after the row of its last line.
    const card = await within(scroll).findByTestId("inline-threads");
    expect(card.dataset.key).toBe("new:6");
    expect(card.previousElementSibling?.getAttribute("data-row")).toBe("3");
    expect(within(card).getAllByTestId("placed-thread")).toHaveLength(1);
    expect(scroll.dataset.rowsPainted).toBe("6");
    await fireEvent.click(within(scroll).getByTestId("line-new-6"));
    await fireEvent.keyDown(within(scroll).getByTestId("line-new-7"), { key: "Enter", shiftKey: true });
    const form = await screen.findByTestId("line-comment-form");
    expect(form).toHaveTextContent("lines 6–7 (new side)");
    await fireEvent.input(within(form).getByLabelText("Line comment"), { target: { value: "Why a new line?" } });
    await fireEvent.click(within(form).getByTestId("add-draft"));
    await vi.waitFor(() =>
      expect(last(calls, "draft_line_comment")).toEqual({
        spec_id: SPEC,
        reviewing: 3,
        target: { revision: 3, path: "source.html", start: 6, end: 7, side: "new" },
        body: "Why a new line?",
      }),
    );
    await fireEvent.click(screen.getByTestId("mark-viewed"));
    await vi.waitFor(() => expect(last(calls, "set_file_viewed")).toEqual({ spec_id: SPEC, number: 3, path: "source.html", viewed: true }));
    mockPlaced = base;
  });

  it("moves between files, toggles the layout and white space from the keyboard", async () => {
    const calls: Call[] = [];
    mock(calls);
    render(DiffViewer, { props: { target: { spec_id: SPEC } } });
    await screen.findByTestId("diff-binary");
    await fireEvent.keyDown(window, { key: "]" });
    await vi.waitFor(() => expect(last(calls, "diff_file")).toMatchObject({ file: 1, layout: "unified" }));
    await fireEvent.keyDown(window, { key: "s" });
    await vi.waitFor(() => expect(last(calls, "diff_file")).toMatchObject({ file: 1, layout: "split" }));
    await fireEvent.keyDown(window, { key: "[" });
    await screen.findByTestId("diff-binary");
    await fireEvent.keyDown(window, { key: "[" });
    await vi.waitFor(() => expect(last(calls, "diff_file")).toMatchObject({ file: 2 }));
    await fireEvent.keyDown(window, { key: "w" });
    await vi.waitFor(() => expect(last(calls, "diff_summary")).toMatchObject({ pair: { from: 1, to: 3, ignore_whitespace: true } }));
    // The same file stays open after the white-space toggle.
    await vi.waitFor(() => expect(last(calls, "diff_file")).toMatchObject({ file: 2, pair: { ignore_whitespace: true } }));
  });

  it("filters a 20,000-file list and paints only the files in view", async () => {
    const many: DiffFile[] = Array.from({ length: 20_000 }, (_, i) => ({
      ...(FILES[2] as DiffFile),
      path: `pkg${i % 50}/file${i}.ts`,
    }));
    const calls: Call[] = [];
    mock(calls, { files: many });
    render(DiffViewer, { props: { target: { spec_id: SPEC } } });
    const list = await screen.findByTestId("diff-files");
    expect(within(list).getAllByTestId("diff-file").length).toBeLessThan(50);
    await fireEvent.input(screen.getByTestId("diff-filter"), { target: { value: "file19999" } });
    await vi.waitFor(() => expect(within(list).getAllByTestId("diff-file").map((e) => e.dataset.path)).toEqual(["pkg49/file19999.ts"]));
    expect(screen.getByTestId("diff-totals")).toHaveTextContent("(1 shown)");
  });

  it("says when a revision's files are not here yet and downloads them on request", async () => {
    const calls: Call[] = [];
    const message = "revision 3 of 'Spec source' is not on this machine yet: 2 of its files (10 bytes) are still to download; sync while online, or run `handoff fetch`";
    mock(calls, { failSummary: { code: "files_not_here", message } });
    render(DiffViewer, { props: { target: { spec_id: SPEC } } });
    const problem = await screen.findByTestId("diff-error");
    expect(problem).toHaveTextContent(message);
    await fireEvent.click(within(problem).getByRole("button", { name: "Download" }));
    await screen.findByTestId("diff-files");
    expect(calls.filter((c) => c.cmd === "fetch_revision_files").map((c) => c.args)).toEqual([
      { spec_id: SPEC, number: 3 },
      { spec_id: SPEC, number: 1 },
    ]);
  });
});
