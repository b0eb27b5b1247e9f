import { describe, expect, it } from "vitest";
import type { DiffCell, DiffRow } from "../ipc";
import { lineHtml } from "./highlight";
import { pickTarget, rowHtml, type RowMarks } from "./rowhtml";

const cell = (line: number, text: string, extra: Partial<DiffCell> = {}): DiffCell => ({
  line,
  text,
  no_newline: false,
  truncated: false,
  emphasis: [],
  ...extra,
});
const none: RowMarks = { picked: () => false, marked: () => false };
const text = (row: DiffRow) => (side: "old" | "new") => (row[side] ? lineHtml(row[side].text, row[side].emphasis) : "");

function dom(html: string): HTMLElement {
  const host = document.createElement("div");
  host.innerHTML = html;
  const row = host.firstElementChild;
  if (!(row instanceof HTMLElement)) throw new Error(`no row in ${html}`);
  return row;
}

describe("a diff row as HTML", () => {
  it("shows a unified row's numbers, sign and escaped text, tinted by its kind", () => {
    const row: DiffRow = { kind: "removed", old: cell(7, "<b>&'x'</b>"), new: null, marker: null };
    const el = dom(rowHtml(row, 41, "unified", text(row), none));
    expect(el.className).toBe("row removed del");
    expect(el.dataset).toMatchObject({ testid: "diff-row", row: "41", kind: "removed" });
    expect(el.querySelector("[data-testid=line-old-7]")?.textContent).toBe("7");
    expect(el.querySelectorAll(".num")).toHaveLength(2);
    expect(el.querySelector(".sign")?.textContent).toBe("−");
    // The text is text: nothing in it became an element.
    expect(el.querySelector(".code")?.textContent).toBe("<b>&'x'</b>");
    expect(el.querySelector(".code b")).toBeNull();
  });

  it("draws side by side halves: changed, missing, and the missing newline", () => {
    const row: DiffRow = { kind: "changed", old: cell(3, "a", { no_newline: true }), new: cell(4, "b"), marker: null };
    const el = dom(rowHtml(row, 0, "split", text(row), none));
    const [old, neu] = [...el.querySelectorAll(".half")];
    expect(old?.className).toBe("half old del");
    expect(neu?.className).toBe("half new add");
    expect(old?.querySelector(".nonl")?.textContent).toContain("no newline at end of file");
    expect(neu?.querySelector(".nonl")).toBeNull();
    const added: DiffRow = { kind: "added", old: null, new: cell(9, "c"), marker: null };
    const halves = dom(rowHtml(added, 1, "split", text(added), none)).querySelectorAll(".half");
    expect(halves[0]?.className).toBe("half old none");
    expect(halves[0]?.querySelector(".pick")).toBeNull();
  });

  it("marks picked lines and lines with threads, and finds them again from a click", () => {
    const row: DiffRow = { kind: "context", old: cell(5, "x"), new: cell(6, "x"), marker: null };
    const marks: RowMarks = { picked: (side, line) => side === "new" && line === 6, marked: (side, line) => side === "old" && line === 5 };
    const el = dom(rowHtml(row, 2, "unified", text(row), marks));
    const newNum = el.querySelector("[data-testid=line-new-6]");
    expect(newNum?.classList.contains("picked")).toBe(true);
    expect(el.querySelector(".code")?.classList.contains("picked")).toBe(true);
    expect(el.querySelector("[data-testid=line-old-5]")?.classList.contains("picked")).toBe(false);
    const mark = el.querySelector("[data-testid=thread-mark]");
    expect(mark?.closest(".num")?.getAttribute("data-testid")).toBe("line-old-5");
    expect(pickTarget(newNum)).toEqual({ side: "new", line: 6, mark: false });
    expect(pickTarget(mark)).toEqual({ side: "old", line: 5, mark: true });
    expect(pickTarget(el.querySelector(".code"))).toBeNull();
    expect(pickTarget(null)).toBeNull();
  });
});
