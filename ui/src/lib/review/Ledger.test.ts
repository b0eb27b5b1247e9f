import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import Ledger from "./Ledger.svelte";
import { closeDiff, diffRoute } from "../diff/route.svelte";
import type { Ledger as LedgerData } from "../ipc";

afterEach(() => {
  cleanup();
  closeDiff();
});

const SPEC = "0190e0e0-0000-7000-8000-000000000001";

const entry = (status: "met" | "not_met", n: number, evidence: { path: string; start_line: number; end_line: number } | null = null) => ({
  review_id: `v${n}`,
  reviewer: "rev@example.com",
  verdict: "request_changes" as const,
  status,
  note: n === 2 ? "display unclear" : "",
  evidence,
  revision_number: n,
  published_at: n,
});

const ledger: LedgerData = {
  revisions: [
    { id: "r1", number: 1 },
    { id: "r2", number: 2 },
  ],
  rows: [
    { criterion_id: "c1", text: "Amounts in cents", removed: false, cells: [[entry("met", 1)], [entry("not_met", 2, { path: "src/a.rs", start_line: 3, end_line: 9 })]], latest: entry("not_met", 2, { path: "src/a.rs", start_line: 3, end_line: 9 }) },
    { criterion_id: "c9", text: "Translated to French", removed: true, cells: [[entry("met", 1)], []], latest: entry("met", 1) },
  ],
  acceptance: { state: "not_yet", reason: "rev@example.com requested changes on revision 2" },
  override_: null,
};

describe("Ledger", () => {
  it("shows each criterion per revision, removed ones marked, why it is not ready, and opens evidence", async () => {
    render(Ledger, { specId: SPEC, ledger, mayOverride: true });
    const rows = screen.getAllByTestId("ledger-row");
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent("removed");
    expect(rows[1]).toHaveTextContent("Translated to French");
    expect(screen.getByTestId("ledger-not-ready")).toHaveTextContent("rev@example.com requested changes on revision 2");
    expect(screen.getByTestId("accept-override")).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("evidence-link"));
    expect(diffRoute.current).toEqual({ spec_id: SPEC, revision_id: "r2", path: "src/a.rs" });
  });
});
