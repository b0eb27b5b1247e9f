import { describe, expect, it } from "vitest";
import { accountErrorMessage, downloadWouldFix, errorText, limitText, needsSignIn, sessionProblem, syncErrorMessage } from "./errorText";

describe("limit errors", () => {
  it("name the field being edited and the limit in readable units", () => {
    const section = { field: "section", actual: 3 * 1024 * 1024, limit: 256 * 1024, unit: "bytes" };
    expect(limitText(section, "System context")).toBe(
      "System context is too long: 3 MB; the limit is 256 KB. Nothing was saved and your text is kept here: shorten it and try again.",
    );
    const title = { field: "title", actual: 5_000_000, limit: 200, unit: "characters" };
    expect(limitText(title)).toMatch(/^Title is too long: 5,000,000 characters; the limit is 200 characters\./);
  });

  it("explain a folder over the file limit and how to fix it", () => {
    expect(limitText({ field: "revision", actual: 120_000, limit: 100_000, unit: "files" })).toBe(
      "This folder holds 120,000 files; a revision holds at most 100,000. Split it, or list what to leave out in a .handoffignore file.",
    );
  });

  it("fall back to the message for every other error", () => {
    expect(errorText({ code: "invalid", message: "title must not be empty" }, "The title")).toBe("title must not be empty");
    expect(
      errorText({ code: "invalid", message: "x", limit: { field: "comment", actual: 70_000, limit: 65_536, unit: "bytes" } }, "The reply"),
    ).toMatch(/^The reply is too long: 68\.4 KB; the limit is 64 KB\./);
  });
});

describe("account error messages", () => {
  it("names the server that does not answer", () => {
    const m = accountErrorMessage({ code: "offline", message: "x" }, "sign_in", "http://127.0.0.1:9");
    expect(m).toContain("http://127.0.0.1:9 does not answer");
    expect(m).toContain("kept");
  });
  it("says wrong password on sign-in and on join", () => {
    expect(accountErrorMessage({ code: "unauthorized", message: "x" }, "sign_in", "s")).toMatch(/Wrong email or password/);
    expect(accountErrorMessage({ code: "unauthorized", message: "x" }, "join", "s")).toMatch(/password is wrong/);
  });
  it("tells revoked from expired sessions and explains bad invites", () => {
    expect(accountErrorMessage({ code: "token_revoked", message: "x" }, "sign_in", "s")).toMatch(/revoked/);
    expect(accountErrorMessage({ code: "token_expired", message: "x" }, "sign_in", "s")).toMatch(/expired/);
    expect(accountErrorMessage({ code: "invite_invalid", message: "x" }, "join", "s")).toMatch(/invite code/);
  });
  it("says how long to wait when sign-in attempts are throttled, and words an upload quota", () => {
    const throttled = { code: "rate_limited" as const, message: "the server refused: too many requests; retry in 100 s (rate_limited)" };
    expect(accountErrorMessage(throttled, "sign_in", "s")).toContain("retry in 100 s");
    expect(errorText({ code: "quota_exceeded", message: "x" })).toMatch(/upload quota/);
  });
  it("words a missing keychain for the desktop, not with the CLI's flags", () => {
    const m = accountErrorMessage({ code: "no_keychain", message: "no OS keychain ... --insecure-token-file" }, "join", "s");
    expect(m).toMatch(/unlocked keyring/);
    expect(m).not.toContain("--insecure-token-file");
  });
  it("says why a new server address was refused, and that nothing changed", () => {
    const url = "http://new.example:8470";
    expect(accountErrorMessage({ code: "offline", message: "x" }, "change_server", url)).toBe(
      `The server at ${url} does not answer, so the address was not changed. Check it and try again.`,
    );
    expect(accountErrorMessage({ code: "not_signed_in", message: "x" }, "change_server", url)).toMatch(/use Sign in with the new address/);
    expect(accountErrorMessage({ code: "token_revoked", message: "x" }, "change_server", url)).toMatch(/does not accept your session/);
    expect(accountErrorMessage({ code: "invalid_server_url", message: "not an address" }, "change_server", url)).toBe("not an address");
  });
});

describe("codes", () => {
  it("know which errors need a new sign-in", () => {
    expect(needsSignIn({ code: "token_revoked", message: "" })).toBe(true);
    expect(needsSignIn({ code: "unauthorized", message: "" })).toBe(true);
    expect(needsSignIn({ code: "not_signed_in", message: "" })).toBe(true);
    expect(needsSignIn({ code: "offline", message: "" })).toBe(false);
    expect(needsSignIn(null)).toBe(false);
  });
  it("say offline and session problems plainly in the sync bar", () => {
    expect(syncErrorMessage({ code: "offline", message: "" })).toMatch(/^Offline/);
    expect(syncErrorMessage({ code: "token_revoked", message: "" })).toMatch(/sign in again/);
    expect(syncErrorMessage({ code: "no_keychain", message: "raw" })).toMatch(/No OS keychain/);
    expect(syncErrorMessage(null)).toBeNull();
  });
  it("warn on the account screen only about the session", () => {
    expect(sessionProblem({ code: "token_expired", message: "" })).toMatch(/expired/);
    expect(sessionProblem({ code: "no_keychain", message: "" })).toMatch(/keyring/);
    expect(sessionProblem({ code: "offline", message: "" })).toBeNull();
    expect(sessionProblem(null)).toBeNull();
  });
  it("offer a download only when the revision's files are not here", () => {
    expect(downloadWouldFix({ code: "files_not_here", message: "" })).toBe(true);
    expect(downloadWouldFix({ code: "offline", message: "" })).toBe(false);
  });
  it("fall back to the message for a newer server's code", () => {
    expect(errorText({ code: "unknown", message: "quota exceeded" })).toBe("quota exceeded");
  });
});

describe("a server that answers but is not trusted is never called offline", () => {
  const untrusted = {
    code: "tls_untrusted" as const,
    message: "the server h.example answered with a certificate this machine does not trust (invalid peer certificate: UnknownIssuer)",
  };
  it("names the certificate on the account screen and in the sync bar", () => {
    expect(accountErrorMessage(untrusted, "join", "https://h.example")).toContain("does not trust");
    expect(syncErrorMessage(untrusted)).toContain("does not trust");
    expect(syncErrorMessage(untrusted)).not.toContain("Offline");
  });
  it("says nothing listens when the connection is refused", () => {
    expect(errorText({ code: "connection_refused", message: "x" })).toContain("Nothing answers");
  });
});
