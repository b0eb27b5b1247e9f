import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openDoc, parseTo, spans } from "./document";
import { parserFor } from "./parsers";

// The first 600 KB of the whatwg HTML source (shared/fixtures): markup, inline <script> and
// <style>, long comments; enough for many parse steps, small enough for a unit test.
// vitest runs in ui/; shared/ sits beside the repository.
const whatwg = readFileSync(resolve(process.cwd(), "../../shared/fixtures/diff/whatwg-source.new"), "utf8");
const text = whatwg.slice(0, whatwg.indexOf("\n", 600_000) + 1);
const lines = text.split("\n").length;

/** The spans of a few ranges of lines: the top, a middle, the last lines, and one cut by a step. */
function sample(doc: ReturnType<typeof openDoc>): Int32Array[] {
  return [
    [0, 60],
    [4_000, 4_100],
    [lines - 80, lines],
    [1_500, 1_700],
  ].map(([from, to]) => spans(doc, from ?? 0, to ?? 0));
}

describe("document", () => {
  it("colours the same tokens parsed in small steps, after a jump to the end, as parsed in one go", async () => {
    const parser = await parserFor("html");
    const whole = openDoc(parser, text);
    parseTo(whole, text.length, Infinity);
    const expected = sample(whole);
    expect(expected.every((s) => s.length > 0)).toBe(true);

    const jumped = openDoc(parser, text);
    parseTo(jumped, text.length, 32 * 1024);
    expect(jumped.text).toBeNull(); // parsed to the end: only the tree is kept
    expect(sample(jumped)).toEqual(expected);

    // As a reader scrolls: a screen at a time, each resuming from the tree so far.
    const scrolled = openDoc(parser, text);
    for (let line = 0; line < lines; line += 2_000) spans(scrolled, line, line + 40);
    expect(sample(scrolled)).toEqual(expected);
  });

  it("parses only as far as asked (and a margin), keeping the text for the rest", async () => {
    const doc = openDoc(await parserFor("html"), text);
    spans(doc, 0, 40);
    expect(doc.parsedTo).toBeLessThan(text.length);
    expect(doc.text).not.toBeNull();
  });
});
