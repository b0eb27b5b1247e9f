import { describe, expect, it } from "vitest";
import { SHORTCUTS, shortcutFor } from "./shortcuts";
import { nextTheme } from "./theme.svelte";

function key(k: string, target: EventTarget = document.body, init: KeyboardEventInit = {}): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, ...init });
  Object.defineProperty(e, "target", { value: target });
  return e;
}

describe("shortcutFor", () => {
  it("maps the main moves", () => {
    expect(shortcutFor(key("n"))).toBe("new-spec");
    expect(shortcutFor(key("/"))).toBe("search");
    expect(shortcutFor(key("j"))).toBe("next");
    expect(shortcutFor(key("k"))).toBe("previous");
    expect(shortcutFor(key("x"))).toBeNull();
  });
  it("maps the diff viewer's keys, each listed once in the help", () => {
    expect(shortcutFor(key("]"))).toBe("next-file");
    expect(shortcutFor(key("["))).toBe("previous-file");
    expect(shortcutFor(key("}"))).toBe("next-hunk");
    expect(shortcutFor(key("{"))).toBe("previous-hunk");
    expect(shortcutFor(key("s"))).toBe("toggle-layout");
    expect(shortcutFor(key("w"))).toBe("toggle-whitespace");
    const keys = SHORTCUTS.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
  it("never fires while typing, except Escape", () => {
    const input = document.createElement("input");
    expect(shortcutFor(key("n", input))).toBeNull();
    expect(shortcutFor(key("Escape", input))).toBe("escape");
  });
  it("ignores modified keys", () => {
    expect(shortcutFor(key("n", document.body, { ctrlKey: true }))).toBeNull();
  });
});

describe("theme toggle", () => {
  it("cycles system, light, dark", () => {
    expect(nextTheme("system")).toBe("light");
    expect(nextTheme("light")).toBe("dark");
    expect(nextTheme("dark")).toBe("system");
  });
});
