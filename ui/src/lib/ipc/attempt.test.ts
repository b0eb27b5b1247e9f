import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { api, attempt, attemptTyped } from "./index";

afterEach(() => clearMocks());

const notHere = { code: "files_not_here", message: "revision 3 is not on this machine yet" };

describe("attempt and attemptTyped", () => {
  it("resolve to null when the action succeeds", async () => {
    mockIPC(() => 7);
    expect(await attempt(() => api.status())).toBeNull();
    expect(await attemptTyped(() => api.status())).toBeNull();
  });

  it("hand back the command's failure: attempt as words, attemptTyped as the IpcError itself", async () => {
    mockIPC(() => {
      throw notHere;
    });
    expect(await attemptTyped(() => api.status())).toEqual(notHere);
    expect(await attempt(() => api.status())).toEqual(expect.stringContaining("not on this machine"));
  });

  it("turn anything else thrown into an internal IpcError", async () => {
    expect(await attemptTyped(async () => JSON.parse("{"))).toMatchObject({ code: "internal" });
  });
});
