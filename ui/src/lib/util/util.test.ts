import { describe, expect, it } from "vitest";
import { formatBytes, formatTime } from "./time";
import { renderMarkdown } from "./markdown";

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
});
