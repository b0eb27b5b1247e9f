import { describe, expect, it } from "vitest";
import rows from "./DiffRows.svelte?raw";
import { painted, paintedClasses } from "./palette";

describe("the highlighter's palette", () => {
  it("keeps only tokens that show in colour", () => {
    expect(painted("tok-keyword")).toBe(true);
    expect(painted("tok-typeName tok-invalid")).toBe(true);
    expect(painted("tok-variableName tok-definition")).toBe(true);
    expect(painted("tok-punctuation")).toBe(false);
    expect(painted("tok-operator")).toBe(false);
    expect(painted("tok-variableName")).toBe(false);
    expect(painted("tok-propertyName tok-definition")).toBe(true);
  });

  it("lists exactly the classes the diff rows' styles colour on their own", () => {
    const styles = rows.slice(rows.indexOf("<style>"));
    const alone = new Set<string>();
    for (const m of styles.matchAll(/\.code \.(tok-[A-Za-z0-9]+)(\.tok-[A-Za-z0-9]+)?\)/g)) {
      if (m[1] && !m[2]) alone.add(m[1]);
    }
    expect([...alone].sort()).toEqual([...paintedClasses].sort());
  });
});
