import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { EditorView } from "@codemirror/view";
import { vi } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { SpecDetail } from "../ipc";
import SpecView from "./SpecView.svelte";

// Unmount (and unlisten) while the IPC mock still exists.
afterEach(() => {
  cleanup();
  clearMocks();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

const OWNER: SpecDetail["permissions"] = {
  edit: true,
  assign: true,
  deliver: true,
  discuss: true,
  review: true,
  next_statuses: ["ready", "closed"],
  accept_by_override: false,
  ready_by_override: false,
  end_engagement: true,
};

function detail(over: Partial<SpecDetail> = {}): SpecDetail {
  return {
    spec: {
      id: SPEC,
      workspace_id: "0190e0e0-0000-7000-8000-0000000000ff",
      title: "CSV export",
      sections: { system_context: "Uses **SQLite**", api_shape: "", out_of_scope: "", notes: "" },
      criteria: [
        { id: "c1", text: "Exports every row" },
        { id: "c2", text: "Quotes commas" },
        { id: "c3", text: "UTF-8 with BOM" },
      ],
      status: "draft",
      assignees: ["ana@example.com"],
      due_date: null,
      created_by: "me@localhost",
      created_at: 1_700_000_000_000,
      updated_at: 1_700_000_000_000,
    },
    role: "owner",
    permissions: OWNER,
    deliverables: [],
    revisions: [],
    threads: [],
    reviews: [],
    drafts: 0,
    ledger: { revisions: [], rows: [], acceptance: { state: "not_yet", reason: "no revision has been delivered" }, override_: null },
    pending_changes: 2,
    readiness: READINESS,
    ready_override: null,
    ...over,
  };
}

/** The checklist handoff-core gives this fixture: thin sections, no due date. */
const READINESS: SpecDetail["readiness"] = {
  checks: [
    { rule: "system_context", title: "System context of substance", passed: false, problems: ["the system context has 1 word: say what the system is"] },
    { rule: "api_shape", title: "API shape: endpoints, types or an example", passed: false, problems: ["the API shape section is empty"] },
    { rule: "criteria", title: "At least one acceptance criterion", passed: true, problems: [] },
    { rule: "checkable_criteria", title: "Every criterion is checkable", passed: true, problems: [] },
    { rule: "out_of_scope", title: "Out of scope stated", passed: false, problems: ["the out of scope section is empty"] },
    { rule: "questions_answered", title: "No unanswered questions", passed: true, problems: [] },
    { rule: "assignee", title: "Assignee set", passed: true, problems: [] },
    { rule: "due_date", title: "Due date set", passed: false, problems: ["there is no due date: set the day the deliverable is due"] },
  ],
  passed: 4,
  total: 8,
};

type Failure = string | { code: string; message: string; limit?: unknown };

function mock(calls: { cmd: string; args: unknown }[], fail: Record<string, Failure> = {}, shown: SpecDetail = detail()) {
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      const f = fail[cmd];
      if (f) throw typeof f === "string" ? { code: "invalid", message: f } : f;
      if (cmd === "spec_detail") return shown;
      return null;
    },
    { shouldMockEvents: true },
  );
}

describe("SpecView", () => {
  it("shows an assigned contractor only what the rules let them do", async () => {
    const contractor = { edit: false, assign: false, deliver: true, discuss: true, review: false, next_statuses: ["in_progress" as const], accept_by_override: false, ready_by_override: false, end_engagement: false };
    mock([], {}, detail({ role: "contractor", permissions: contractor, spec: { ...detail().spec, status: "ready" } }));
    render(SpecView, { specId: SPEC });
    expect(await screen.findByRole("heading", { name: /CSV export/ })).toBeInTheDocument();
    for (const name of ["Rename", "Edit API shape", "Set due date", "Add", "Assign", "Move down"]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
    expect(screen.queryByLabelText("Assign by email")).toBeNull();
    expect(screen.getAllByRole("button", { name: /^→/ }).map((b) => b.textContent?.trim())).toEqual(["→ In progress"]);
    expect(screen.getByRole("button", { name: "Ask" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "New revision from folder…" })).toBeInTheDocument();
  });

  it("hides discussing and delivering from a viewer who may do neither", async () => {
    const stranger = { edit: false, assign: false, deliver: false, discuss: false, review: false, next_statuses: [], accept_by_override: false, ready_by_override: false, end_engagement: false };
    mock([], {}, detail({ role: "contractor", permissions: stranger }));
    render(SpecView, { specId: SPEC });
    expect(await screen.findByRole("heading", { name: /CSV export/ })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Ask" })).toBeNull();
    expect(screen.queryByRole("button", { name: "New revision from folder…" })).toBeNull();
    expect(screen.queryByRole("button", { name: /^→/ })).toBeNull();
  });

  it("offers exactly the transitions in next_statuses and renders sections", async () => {
    mock([]);
    render(SpecView, { specId: SPEC });
    expect(await screen.findByRole("heading", { name: /CSV export/ })).toBeInTheDocument();
    const transitions = screen.getAllByRole("button", { name: /^→/ }).map((b) => b.textContent?.trim());
    expect(transitions).toEqual(["→ Ready", "→ Closed"]);
    expect(screen.getByText("SQLite").tagName).toBe("STRONG");
  });

  it("lists every failing readiness rule with what to do, and lets an owner override with a reason", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    const owner = { ...OWNER, next_statuses: ["closed" as const], ready_by_override: true };
    mock(calls, {}, detail({ permissions: owner }));
    render(SpecView, { specId: SPEC });
    expect(await screen.findByTestId("readiness-score")).toHaveTextContent("4/8");
    const failing = screen.getAllByTestId("readiness-rule").filter((li) => li.dataset.passed === "false");
    expect(failing.map((li) => li.dataset.rule)).toEqual(["system_context", "api_shape", "out_of_scope", "due_date"]);
    expect(failing[3]).toHaveTextContent("there is no due date: set the day the deliverable is due");
    expect(screen.queryByRole("button", { name: "→ Ready" })).toBeNull();
    await fireEvent.click(screen.getByTestId("ready-override"));
    await fireEvent.input(screen.getByLabelText("Override reason"), { target: { value: "Agreed on the call" } });
    await fireEvent.click(screen.getByRole("button", { name: "Mark ready by override" }));
    expect(calls.find((c) => c.cmd === "mark_ready_with_override")?.args).toEqual({ spec_id: SPEC, reason: "Agreed on the call" });
  });

  it("offers no override to a reviewer and shows a recorded override with the rules that failed", async () => {
    const reviewer = { ...OWNER, next_statuses: [], end_engagement: false };
    const record = { spec_id: SPEC, by: "olga@acme.io", reason: "Agreed on the call", failing: ["due_date" as const], at: 1_700_000_000_000 };
    mock([], {}, detail({ role: "reviewer", permissions: reviewer, ready_override: record }));
    render(SpecView, { specId: SPEC });
    expect(await screen.findByTestId("ready-override-record")).toHaveTextContent(
      /Marked ready by override: olga@acme\.io, .* — “Agreed on the call” \(failing then: Due date set\)/,
    );
    expect(screen.queryByTestId("ready-override")).toBeNull();
  });

  it("moves a criterion down by placing it after its successor", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mock(calls);
    render(SpecView, { specId: SPEC });
    const first = await screen.findByText("Exports every row");
    const row = first.closest("li");
    if (!row) throw new Error("no row");
    await fireEvent.click(within(row).getByRole("button", { name: "Move down" }));
    expect(calls.find((c) => c.cmd === "move_criterion")?.args).toEqual({
      spec_id: SPEC,
      criterion_id: "c1",
      after: "c2",
    });
  });

  it("moves the second criterion to the top with after = null", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mock(calls);
    render(SpecView, { specId: SPEC });
    const row = (await screen.findByText("Quotes commas")).closest("li");
    if (!row) throw new Error("no row");
    await fireEvent.click(within(row).getByRole("button", { name: "Move up" }));
    expect(calls.find((c) => c.cmd === "move_criterion")?.args).toEqual({ spec_id: SPEC, criterion_id: "c2", after: null });
  });

  it("keeps a rejected new criterion in the field and shows why", async () => {
    mock([], { add_criterion: "invalid criterion: it is empty" });
    render(SpecView, { specId: SPEC });
    const input = await screen.findByLabelText("New criterion");
    await fireEvent.input(input, { target: { value: "   " } });
    await fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("invalid criterion: it is empty");
    expect(input).toHaveValue("   ");
  });

  it("keeps a huge pasted title in the field and names the field and the limit", async () => {
    const huge = "x".repeat(3 * 1024 * 1024);
    mock([], {
      set_title: {
        code: "invalid",
        message: "title is too long",
        limit: { field: "title", actual: huge.length, limit: 200, unit: "characters" },
      },
    });
    render(SpecView, { specId: SPEC });
    await fireEvent.click(await screen.findByRole("button", { name: "Rename" }));
    const input = screen.getByLabelText("Title");
    await fireEvent.input(input, { target: { value: huge } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The title is too long: 3,145,728 characters; the limit is 200 characters. Nothing was saved and your text is kept here",
    );
    expect((screen.getByLabelText("Title") as HTMLInputElement).value.length).toBe(huge.length);
  });

  it("keeps a huge paste in the section editor and names the section and the limit", async () => {
    const huge = "# Pasted log\n" + "line of a pasted log file\n".repeat(150_000);
    mock([], {
      edit_section: {
        code: "invalid",
        message: "section is too long",
        limit: { field: "section", actual: huge.length, limit: 256 * 1024, unit: "bytes" },
      },
    });
    render(SpecView, { specId: SPEC });
    await fireEvent.click(await screen.findByRole("button", { name: "Edit API shape" }));
    // The editor's code loads on the first edit.
    const dom = await waitFor(() => {
      const found = document.querySelector("section[data-section=api_shape] .cm-editor");
      if (!found) throw new Error("the editor is not there yet");
      return found;
    });
    const view = dom instanceof HTMLElement ? EditorView.findFromDOM(dom) : null;
    if (!view) throw new Error("no editor");
    view.dispatch({ changes: { from: 0, insert: huge } });
    const section = document.querySelector("section[data-section=api_shape]") as HTMLElement;
    await fireEvent.click(within(section).getByRole("button", { name: "Save" }));
    expect(await within(section).findByRole("alert")).toHaveTextContent(/^API shape is too long: 3\.7 MB; the limit is 256 KB\./);
    expect(view.state.doc.toString()).toBe(huge);
    expect(within(section).getByRole("button", { name: "Save" })).toBeEnabled();
  });

  it("sets a due date and previews it in the viewer's words", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mock(calls);
    render(SpecView, { specId: SPEC });
    await fireEvent.click(await screen.findByRole("button", { name: "Set due date" }));
    const input = screen.getByLabelText("Due date (YYYY-MM-DD)");
    await fireEvent.input(input, { target: { value: "2031-02-30" } });
    expect(screen.getByTestId("due-preview")).toHaveTextContent("not a date yet");
    await fireEvent.input(input, { target: { value: "2031-03-14" } });
    expect(screen.getByTestId("due-preview")).toHaveTextContent(/Mar 14, 2031|14 Mar 2031/);
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(calls).toContainEqual({ cmd: "set_due_date", args: { spec_id: SPEC, due_date: "2031-03-14" } }));
  });

  it("keeps a refused due date in the field with the reason", async () => {
    mock([], { set_due_date: "invalid due date \"2031-13-01\": the month must be 01 to 12" });
    render(SpecView, { specId: SPEC });
    await fireEvent.click(await screen.findByRole("button", { name: "Set due date" }));
    const input = screen.getByLabelText("Due date (YYYY-MM-DD)");
    await fireEvent.input(input, { target: { value: "2031-13-01" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the month must be 01 to 12");
    expect(screen.getByLabelText("Due date (YYYY-MM-DD)")).toHaveValue("2031-13-01");
  });
});
