// The lezer parser for each language the highlighter knows, loaded on first use.
import type { Parser } from "@lezer/common";
import type { Lang } from "./highlight";

async function javascript(dialect: string): Promise<Parser> {
  const { parser } = await import("@lezer/javascript");
  return parser.configure({ dialect });
}

export async function parserFor(lang: Lang): Promise<Parser> {
  switch (lang) {
    case "js":
      return javascript("");
    case "jsx":
      return javascript("jsx");
    case "ts":
      return javascript("ts");
    case "tsx":
      return javascript("ts jsx");
    case "rust":
      return (await import("@lezer/rust")).parser;
    case "html": {
      // <script> and <style> are parsed with their own languages (as a browser reads them);
      // a script whose type is not JavaScript (a template, JSON data) stays plain text.
      const [{ parser, configureNesting }, css, js, ts] = await Promise.all([
        import("@lezer/html"),
        import("@lezer/css"),
        javascript(""),
        javascript("ts"),
      ]);
      const isJs = (a: Record<string, string>) => !a.type || /^(module|(text|application)\/(java|ecma)script)$/i.test(a.type);
      const wrap = configureNesting([
        { tag: "script", attrs: (a) => isJs(a) && /^(ts|typescript)$/i.test(a.lang ?? ""), parser: ts },
        { tag: "script", attrs: (a) => isJs(a) && !/^(ts|typescript)$/i.test(a.lang ?? ""), parser: js },
        { tag: "style", attrs: (a) => !a.type || /^text\/css$/i.test(a.type), parser: css.parser },
      ]);
      return parser.configure({ wrap });
    }
    case "css":
      return (await import("@lezer/css")).parser;
    case "json":
      return (await import("@lezer/json")).parser;
    case "markdown":
      return (await import("@lezer/markdown")).parser;
    case "python":
      return (await import("@lezer/python")).parser;
  }
}
