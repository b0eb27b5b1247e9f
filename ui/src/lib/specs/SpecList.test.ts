import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import SpecList from "./SpecList.svelte";
import type { SpecSummary } from "../ipc";

afterEach(cleanup);

/** Spec `i` of a workspace, newest first in the list (the list sorts by last change). */
function spec(i: number): SpecSummary {
  return {
    id: `s${i}`,
    workspace_id: "w",
    title: `Spec number ${i}`,
    status: i % 2 ? "draft" : "in_progress",
    due_date: null,
    updated_at: 1_700_000_000_000 - i,
    criteria: 2,
    open_threads: 0,
    revisions: 0,
    assignees: [],
    pending_changes: 0,
    readiness: null,
  };
}

const workspace = Array.from({ length: 1000 }, (_, i) => spec(i));
// jsdom has no layout: the list assumes its estimated row height and a 600 px view.
const ROW = 85;

function list(): HTMLElement {
  return screen.getByRole("listbox", { name: "Specs" });
}

/** The element that scrolls: the listbox inside it is as tall as the whole list. */
function scroller(): HTMLElement {
  return screen.getByTestId("spec-list-scroll");
}

describe("SpecList", () => {
  it("builds only the rows in view of a 1,000-spec workspace, and tells assistive tech the whole size", () => {
    render(SpecList, { specs: workspace, selected: null, onselect: () => {} });
    const options = within(list()).getAllByRole("option");
    expect(options.length).toBeGreaterThan(5);
    expect(options.length).toBeLessThan(40);
    expect(options[0]).toHaveTextContent("Spec number 0");
    expect(options[0]).toHaveAttribute("aria-setsize", "1000");
    expect(options[0]).toHaveAttribute("aria-posinset", "1");
    // The rows not built still take their room, so the scrollbar is the whole list's.
    expect(list().style.paddingBottom).toBe(`${(1000 - options.length) * ROW}px`);
    expect(screen.getByRole("combobox", { name: "Filter by status" })).toHaveTextContent("All (1000)");
  });

  it("builds the rows scrolled to and lets the ones scrolled past go", async () => {
    render(SpecList, { specs: workspace, selected: null, onselect: () => {} });
    scroller().scrollTop = 500 * ROW;
    await fireEvent.scroll(scroller());
    const titles = within(list()).getAllByRole("option").map((o) => o.querySelector(".title")?.textContent);
    expect(titles).toContain("Spec number 500");
    expect(titles).not.toContain("Spec number 0");
    const first = within(list()).getAllByRole("option")[0];
    const at = Number(first?.getAttribute("aria-posinset")) - 1;
    expect(list().style.paddingTop).toBe(`${at * ROW}px`);
  });

  it("scrolls a selection made elsewhere (keys, the inbox, a search hit) into view", async () => {
    const view = render(SpecList, { specs: workspace, selected: null, onselect: () => {} });
    expect(screen.queryByText("Spec number 900")).toBeNull();
    await view.rerender({ specs: workspace, selected: "s900", onselect: () => {} });
    const picked = within(list()).getByRole("option", { selected: true });
    expect(picked).toHaveTextContent("Spec number 900");
    expect(scroller().scrollTop).toBe(901 * ROW - 600);
  });

  it("keeps the reader's scroll position when the list reloads", async () => {
    const view = render(SpecList, { specs: workspace, selected: "s3", onselect: () => {} });
    scroller().scrollTop = 700 * ROW;
    await fireEvent.scroll(scroller());
    await view.rerender({ specs: workspace.map((s) => ({ ...s })), selected: "s3", onselect: () => {} });
    expect(scroller().scrollTop).toBe(700 * ROW);
    expect(screen.getByText("Spec number 700")).toBeInTheDocument();
  });

  it("clicking a row selects that spec", async () => {
    let picked: string | null = null;
    render(SpecList, { specs: workspace, selected: null, onselect: (id: string) => (picked = id) });
    await fireEvent.click(screen.getByText("Spec number 4"));
    expect(picked).toBe("s4");
  });
});
