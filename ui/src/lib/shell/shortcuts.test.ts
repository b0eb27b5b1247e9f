import { describe, expect, it } from "vitest";
import { shortcutFor } from "./shortcuts";
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
