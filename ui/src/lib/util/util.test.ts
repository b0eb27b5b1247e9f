import { describe, expect, it, vi } from "vitest";
import { UNKNOWN_TIME, dueText, formatBytes, formatRelative, formatTime, isoTime, todayIn } from "./time";
import { MARKDOWN_KEPT, renderMarkdown } from "./markdown";

describe("times from a client's clock", () => {
  it("never throw, however far off they are", () => {
    for (const ms of [9.2e18, -9.2e18, 8.64e15 + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(formatTime(ms, "en-GB", "UTC")).toBe(UNKNOWN_TIME);
      expect(formatRelative(ms, 0, "en-GB")).toBe(UNKNOWN_TIME);
      expect(isoTime(ms)).toBeUndefined();
    }
    expect(isoTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatTime(8.64e15, "en-GB", "UTC")).toContain("275760");
  });
});

describe("formatTime", () => {
  it("shows the instant in the viewer's time zone with an explicit locale", () => {
    const ms = Date.UTC(2026, 10, 28, 17, 59);
    expect(formatTime(ms, "en-GB", "UTC")).toBe("28 Nov 2026, 17:59");
    expect(formatTime(ms, "en-GB", "Asia/Tokyo")).toBe("29 Nov 2026, 02:59");
    expect(formatTime(ms, "en-US", "America/Los_Angeles")).toBe("Nov 28, 2026, 9:59 AM");
  });

  it("formats sizes with separators", () => {
    expect(formatBytes(512, "en-US")).toBe("512 B");
    expect(formatBytes(1536, "en-US")).toBe("1.5 KB");
    expect(formatBytes(100000 * 1024 * 1024, "en-US")).toBe("97.7 GB");
  });
});

describe("renderMarkdown", () => {
  it("renders markdown", () => {
    expect(renderMarkdown("# Title\n\n*x*")).toContain("<em>x</em>");
  });

  it("removes scripts, event handlers and javascript: links", () => {
    const html = renderMarkdown(
      '<img src=x onerror="alert(1)"><script>alert(2)</script>[a](javascript:alert(3)) <iframe src="https://evil"></iframe>',
    );
    expect(html).not.toMatch(/onerror|<script|javascript:|<iframe/);
  });

  it("renders a text seen before from what it kept, still sanitized, and keeps a bounded number", async () => {
    const { marked } = await import("marked");
    const parse = vi.spyOn(marked, "parse");
    const evil = '<img src=x onerror="alert(1)">seen';
    const first = renderMarkdown(evil);
    const again = renderMarkdown(evil);
    expect(again).toBe(first);
    expect(again).not.toMatch(/onerror/);
    expect(parse).toHaveBeenCalledTimes(1);
    for (let i = 0; i <= MARKDOWN_KEPT; i++) renderMarkdown(`comment ${i}`);
    renderMarkdown(evil);
    expect(parse).toHaveBeenCalledTimes(MARKDOWN_KEPT + 3);
    parse.mockRestore();
  });
});

describe("due dates", () => {
  // 20:00 UTC on 10 March: already 11 March in Auckland, still 10 March in Los Angeles.
  const now = new Date(Date.UTC(2025, 2, 10, 20, 0));

  it("count days from today in the viewer's time zone", () => {
    expect(todayIn("Pacific/Auckland", now)).toBe("2025-03-11");
    expect(todayIn("America/Los_Angeles", now)).toBe("2025-03-10");
    expect(dueText("2025-03-11", "en-US", "Pacific/Auckland", now)).toEqual({ date: "Mar 11, 2025", relative: "today", overdue: false });
    expect(dueText("2025-03-11", "en-US", "America/Los_Angeles", now)).toEqual({ date: "Mar 11, 2025", relative: "tomorrow", overdue: false });
    expect(dueText("2025-03-01", "en-GB", "UTC", now)).toEqual({ date: "1 Mar 2025", relative: "9 days ago", overdue: true });
  });

  it("refuse text that is not a real calendar day", () => {
    expect(dueText("2025-02-30", "en-US", "UTC", now)).toBeNull();
    expect(dueText("next friday", "en-US", "UTC", now)).toBeNull();
  });
});
