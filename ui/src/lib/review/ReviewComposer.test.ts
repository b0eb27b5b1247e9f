import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import ReviewComposer from "./ReviewComposer.svelte";
import type { DraftView } from "../ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

function draft(id: string, revision: number, body: string): DraftView {
  return {
    id,
    spec_id: SPEC,
    revision_id: `r${revision}`,
    revision_number: revision,
    thread_id: null,
    anchor: { kind: "revision_lines", revision_id: `r${revision}`, path: "src/a.rs", start_line: 3, end_line: 5, side: "new", excerpt: "fn a()\n" },
    body,
    created_at: 1,
    updated_at: 1,
  };
}

const criteria = [
  { id: "c1", text: "Exports every row" },
  { id: "c2", text: "Quotes commas" },
];

describe("ReviewComposer", () => {
  it("publishes the verdict, summary and criterion statuses with the drafts of its revision", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "drafts") return [draft("d1", 2, "Name this better"), draft("d0", 1, "on an older revision")];
      return "review-id";
    });
    render(ReviewComposer, { specId: SPEC, revision: 2, newest: 3, criteria, onclose: () => {} });
    expect(await screen.findByText("Name this better")).toBeInTheDocument();
    expect(screen.queryByText("on an older revision")).toBeNull();
    expect(screen.getByTestId("superseded")).toHaveTextContent("published against revision 2");
    await fireEvent.click(screen.getByLabelText("Request changes"));
    await fireEvent.input(screen.getByLabelText("Review summary"), { target: { value: "Close." } });
    await fireEvent.change(screen.getByLabelText("Status of criterion 2"), { target: { value: "not_met" } });
    await fireEvent.input(screen.getByLabelText("Note on criterion 2"), { target: { value: "commas break" } });
    await fireEvent.input(screen.getByLabelText("Evidence file for criterion 2"), { target: { value: "src/a.rs" } });
    await fireEvent.input(screen.getByLabelText("Evidence lines for criterion 2"), { target: { value: "3-5" } });
    await fireEvent.click(screen.getByTestId("publish-review"));
    await vi.waitFor(() =>
      expect(calls).toContainEqual([
        "publish_review",
        {
          spec_id: SPEC,
          number: 2,
          verdict: "request_changes",
          summary: "Close.",
          criteria: [{ position: 2, status: "not_met", note: "commas break", evidence: { path: "src/a.rs", start_line: 3, end_line: 5 } }],
        },
      ]),
    );
    expect(await screen.findByTestId("review-published")).toBeInTheDocument();
  });

  it("refuses evidence without lines before sending anything", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return cmd === "drafts" ? [] : null;
    });
    render(ReviewComposer, { specId: SPEC, revision: 1, newest: 1, criteria, onclose: () => {} });
    await fireEvent.input(screen.getByLabelText("Evidence file for criterion 1"), { target: { value: "src/a.rs" } });
    await fireEvent.click(screen.getByTestId("publish-review"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Criterion 1: evidence needs a file and lines");
    expect(calls).not.toContain("publish_review");
  });
});
