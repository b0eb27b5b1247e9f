import { describe, expect, it } from "vitest";
import { latestOnly } from "./latest";

describe("latestOnly", () => {
  it("drops an older request's late answer once a newer one started", async () => {
    const searches = latestOnly();
    const shown: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const run = async (query: string, wait: Promise<void>) => {
      const isLatest = searches.start();
      await wait;
      if (isLatest()) shown.push(query);
    };
    const older = run("ab", slow);
    await run("abc", Promise.resolve());
    release();
    await older;
    expect(shown).toEqual(["abc"]);
  });
});
