import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { SpecDetail } from "../ipc";
import SpecView from "./SpecView.svelte";

// Unmount (and unlisten) while the IPC mock still exists.
afterEach(() => {
  cleanup();
  clearMocks();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

function detail(): SpecDetail {
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
    next_statuses: ["ready", "closed"],
    deliverables: [],
    revisions: [],
    threads: [],
    reviews: [],
    pending_changes: 2,
  };
}

function mock(calls: { cmd: string; args: unknown }[], fail: Record<string, string> = {}) {
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      if (fail[cmd]) throw { code: "invalid", message: fail[cmd] };
      if (cmd === "spec_detail") return detail();
      return null;
    },
    { shouldMockEvents: true },
  );
}

describe("SpecView", () => {
  it("offers exactly the transitions in next_statuses and renders sections", async () => {
    mock([]);
    render(SpecView, { specId: SPEC });
    expect(await screen.findByRole("heading", { name: /CSV export/ })).toBeInTheDocument();
    const transitions = screen.getAllByRole("button", { name: /^→/ }).map((b) => b.textContent?.trim());
    expect(transitions).toEqual(["→ Ready", "→ Closed"]);
    expect(screen.getByText("SQLite").tagName).toBe("STRONG");
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
});
