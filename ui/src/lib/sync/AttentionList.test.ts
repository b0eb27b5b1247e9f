import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import AttentionList from "./AttentionList.svelte";
import type { AttentionView } from "../ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

function item(id: number, conflict: boolean, reason: string): AttentionView {
  return {
    entry: {
      mutation_id: id,
      kind: conflict ? "spec.edit_section" : "spec.set_title",
      description: conflict ? "Edit the notes of 'CSV export'" : "Rename 'CSV export' to 'A title the server refused'",
      spec_id: "0190e0e0-0000-7000-8000-000000000001",
      created_at: 1_700_000_000_000,
      state: "attention",
      last_error: reason,
      envelope: {},
    },
    conflict,
    reason,
    editable_text: conflict ? null : "A title the server refused",
  };
}

describe("AttentionList", () => {
  it("lists refused and conflicted changes; retry and discard (after confirming) call the client", async () => {
    let items = [item(4, false, "title is too long"), item(7, true, "the section changed on the server")];
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "attention") return items;
      if (cmd === "retry_attention") {
        items = items.filter((i) => i.entry.mutation_id !== 4);
        return 9;
      }
      if (cmd === "discard_attention") {
        items = [];
        return null;
      }
    });
    render(AttentionList, { onclose: () => {} });
    expect(await screen.findByText("title is too long")).toBeInTheDocument();
    // Words for people, never the wire name.
    expect(screen.getByText("Edit the notes of 'CSV export'")).toBeInTheDocument();
    expect(screen.queryByText("spec.edit_section")).not.toBeInTheDocument();
    expect(screen.getByText("Conflict")).toBeInTheDocument();
    expect(screen.getByText("Refused")).toBeInTheDocument();

    await fireEvent.click(screen.getAllByRole("button", { name: "Retry" })[0]!);
    await vi.waitFor(() => expect(calls).toContainEqual(["retry_attention", { mutation_id: 4 }]));
    await vi.waitFor(() => expect(screen.queryByText("title is too long")).not.toBeInTheDocument());

    await fireEvent.click(screen.getByRole("button", { name: "Discard…" }));
    expect(calls.some(([c]) => c === "discard_attention")).toBe(false);
    await fireEvent.click(screen.getByRole("button", { name: "Discard for good" }));
    await vi.waitFor(() => expect(calls).toContainEqual(["discard_attention", { mutation_id: 7 }]));
    expect(await screen.findByText("Nothing needs attention.")).toBeInTheDocument();
  });

  it("exports to the file picked in the save dialog", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "attention") return [item(4, false, "refused")];
      if (cmd === "plugin:dialog|save") return "/tmp/out.json";
      if (cmd === "export_attention") return 1;
    });
    render(AttentionList, { onclose: () => {} });
    await screen.findByText("refused");
    await fireEvent.click(screen.getByRole("button", { name: "Export…" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Exported 1 change to /tmp/out.json");
    expect(calls).toContainEqual(["export_attention", { path: "/tmp/out.json" }]);
  });

  it("shows a failure and keeps the list", async () => {
    mockIPC((cmd) => {
      if (cmd === "attention") return [item(4, false, "refused")];
      if (cmd === "retry_attention") throw { code: "invalid", message: "sync first" };
    });
    render(AttentionList, { onclose: () => {} });
    await fireEvent.click(await screen.findByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("sync first");
    expect(screen.getByText("refused")).toBeInTheDocument();
  });

  it("edits a refused change's text and sends it again; a failure keeps the draft", async () => {
    let items = [item(4, false, "title is too long")];
    const calls: [string, unknown][] = [];
    let fail = true;
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "attention") return items;
      if (cmd === "edit_attention") {
        if (fail) {
          fail = false;
          throw { code: "invalid", message: "x", limit: { field: "title", actual: 300, limit: 200, unit: "characters" } };
        }
        items = [];
        return 11;
      }
    });
    render(AttentionList, { onclose: () => {} });
    expect(await screen.findByText("A title the server refused")).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Edit…" }));
    const box = screen.getByLabelText("Edited text");
    expect(box).toHaveValue("A title the server refused");
    await fireEvent.input(box, { target: { value: "y".repeat(300) } });
    await fireEvent.click(screen.getByRole("button", { name: "Send edited" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The edited text is too long: 300 characters; the limit is 200 characters.");
    expect(screen.getByLabelText("Edited text")).toHaveValue("y".repeat(300));
    await fireEvent.input(screen.getByLabelText("Edited text"), { target: { value: "Short title" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send edited" }));
    await vi.waitFor(() => expect(calls).toContainEqual(["edit_attention", { mutation_id: 4, text: "Short title" }]));
    expect(await screen.findByText("Nothing needs attention.")).toBeInTheDocument();
  });

  it("offers no edit for a change without text", async () => {
    mockIPC((cmd) => (cmd === "attention" ? [item(7, true, "conflict")] : null));
    render(AttentionList, { onclose: () => {} });
    await screen.findByText("conflict");
    expect(screen.queryByRole("button", { name: "Edit…" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });
});
