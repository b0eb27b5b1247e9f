import { describe, expect, it } from "vitest";
import { classHighlighter, highlightTree } from "@lezer/highlight";
import { parserFor } from "./parsers";

/** The text of each token with its classes. */
async function tokens(lang: "html", text: string): Promise<string[]> {
  const tree = (await parserFor(lang)).parse(text);
  const out: string[] = [];
  highlightTree(tree, classHighlighter, (from, to, classes) => out.push(`${text.slice(from, to)}:${classes}`));
  return out;
}

describe("parserFor html", () => {
  it("highlights <script> as JavaScript and <style> as CSS", async () => {
    const t = await tokens("html", "<p>x</p><script>let n = 1;</script><style>a { color: red }</style>");
    expect(t).toContain("let:tok-keyword");
    expect(t).toContain("1:tok-number");
    expect(t).toContain("color:tok-propertyName");
  });

  it("leaves a script that is not JavaScript as text", async () => {
    const t = await tokens("html", '<script type="text/template">let n = 1;</script>');
    expect(t).not.toContain("let:tok-keyword");
  });
});
