import { describe, expect, it } from "vitest";
import { escapeHtml, languageFor, lineHtml } from "./highlight";
import { lineSpans } from "./spans";

describe("languageFor", () => {
  it("picks a parser by extension, plain text otherwise", () => {
    expect(languageFor("src/main.rs")).toBe("rust");
    expect(languageFor("ui/App.TSX")).toBe("tsx");
    expect(languageFor("index.html")).toBe("html");
    expect(languageFor("a/b/style.css")).toBe("css");
    expect(languageFor("package.json")).toBe("json");
    expect(languageFor("README.md")).toBe("markdown");
    expect(languageFor("tool.py")).toBe("python");
    expect(languageFor("lib.mjs")).toBe("js");
    expect(languageFor("Makefile")).toBeNull();
    expect(languageFor(".gitignore")).toBeNull();
    expect(languageFor("data.bin")).toBeNull();
  });
});

describe("lineHtml", () => {
  it("escapes text", () => {
    expect(lineHtml(`<a href="x">&'</a>`, [])).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    expect(escapeHtml("<script>")).toBe("&lt;script&gt;");
  });
  it("combines syntax spans with word emphasis", () => {
    // "let x = 1;" with `let` a keyword and `1` both a number and the changed word.
    const html = lineHtml(
      "let x = 1;",
      [[8, 9]],
      lineSpans([
        [0, 3, "tok-keyword"],
        [8, 9, "tok-number"],
      ]),
    );
    expect(html).toBe('<span class="tok-keyword">let</span> x = <span class="tok-number em">1</span>;');
  });
  it("emphasis may cross a token boundary", () => {
    expect(lineHtml("ab cd", [[1, 4]], lineSpans([[0, 2, "k"]]))).toBe('<span class="k">a</span><span class="k em">b</span><span class="em"> c</span>d');
  });
  it("ignores ranges past the text (a cut line)", () => {
    expect(lineHtml("abc", [[2, 10]], lineSpans([[5, 9, "k"]]))).toBe('ab<span class="em">c</span>');
  });
});
