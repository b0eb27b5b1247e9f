import { describe, expect, it } from "vitest";
import { errorText, limitText } from "./errorText";

describe("limit errors", () => {
  it("name the field being edited and the limit in readable units", () => {
    const section = { field: "section", actual: 3 * 1024 * 1024, limit: 256 * 1024, unit: "bytes" };
    expect(limitText(section, "System context")).toBe(
      "System context is too long: 3 MB; the limit is 256 KB. Nothing was saved and your text is kept here: shorten it and try again.",
    );
    const title = { field: "title", actual: 5_000_000, limit: 200, unit: "characters" };
    expect(limitText(title)).toMatch(/^Title is too long: 5,000,000 characters; the limit is 200 characters\./);
  });

  it("explain a folder over the file limit and how to fix it", () => {
    expect(limitText({ field: "revision", actual: 120_000, limit: 100_000, unit: "files" })).toBe(
      "This folder holds 120,000 files; a revision holds at most 100,000. Split it, or list what to leave out in a .handoffignore file.",
    );
  });

  it("fall back to the message for every other error", () => {
    expect(errorText({ code: "invalid", message: "title must not be empty" }, "The title")).toBe("title must not be empty");
    expect(
      errorText({ code: "invalid", message: "x", limit: { field: "comment", actual: 70_000, limit: 65_536, unit: "bytes" } }, "The reply"),
    ).toMatch(/^The reply is too long: 68\.4 KB; the limit is 64 KB\./);
  });
});
