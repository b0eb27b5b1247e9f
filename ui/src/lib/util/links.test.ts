import { describe, expect, it } from "vitest";
import { linkAction } from "./links";

const APP = "tauri://localhost/index.html";

describe("linkAction", () => {
  it("offers web and mail addresses, in full, to the system browser", () => {
    expect(linkAction("https://example.com/a?b=1#c", APP)).toEqual({ kind: "external", url: "https://example.com/a?b=1#c" });
    expect(linkAction("http://intranet.local/x", APP)).toEqual({ kind: "external", url: "http://intranet.local/x" });
    expect(linkAction("mailto:ana@example.com", APP)).toEqual({ kind: "external", url: "mailto:ana@example.com" });
  });

  it("keeps the app's own fragments and pages in the app", () => {
    expect(linkAction("#criteria", APP).kind).toBe("in-app");
    expect(linkAction("/index.html", APP).kind).toBe("in-app");
  });

  it("refuses other schemes and addresses that do not parse", () => {
    for (const href of ["file:///etc/passwd", "data:text/html,x", "ftp://example.com/", "vscode://open", "http://"]) {
      expect(linkAction(href, APP).kind, href).toBe("refused");
    }
  });
});
