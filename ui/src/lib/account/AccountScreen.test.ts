import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import AccountScreen from "./AccountScreen.svelte";
import type { AccountView, SyncState } from "../ipc";

afterEach(() => {
  cleanup();
  clearMocks();
});

const local: AccountView = { server_url: null, identity: "me@localhost", signed_in: false };
const idle: SyncState = { signed_in: false, online: null, pending: 0, attention: 0, last_sync: null, error: null, downloads: null, download_error: null };

async function fill(label: string | RegExp, value: string) {
  await fireEvent.input(screen.getByLabelText(label), { target: { value } });
}

describe("AccountScreen", () => {
  it("joins with an invite and sends every field", async () => {
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === "account") return local;
      if (cmd === "sync_state") return idle;
      if (cmd === "join_workspace") {
        sent = args;
        return { server_url: "http://127.0.0.1:7000", identity: "ana@example.com", signed_in: true };
      }
    });
    render(AccountScreen);
    await screen.findByText(/Working locally/);
    await fill("Server address", " http://127.0.0.1:7000 ");
    await fill("Invite code", "ABC-123");
    await fill("Email", "ana@example.com");
    await fill("Your name", "Ana");
    await fill("Password", "pw-1234567");
    await fireEvent.click(screen.getByRole("button", { name: "Join" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Signed in as ana@example.com");
    expect(sent).toMatchObject({
      input: { server_url: "http://127.0.0.1:7000", invite_code: "ABC-123", email: "ana@example.com", name: "Ana", password: "pw-1234567" },
    });
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });

  it("on a first run with an invite, fills everything in and asks only for a password", async () => {
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === "account") return local;
      if (cmd === "sync_state") return idle;
      if (cmd === "first_run_invite") {
        return { server_url: "http://127.0.0.1:8470", invite_code: "FIRST-RUN", email: "owner@localhost", display_name: "ana" };
      }
      if (cmd === "join_workspace") {
        sent = args;
        return { server_url: "http://127.0.0.1:8470", identity: "owner@localhost", signed_in: true };
      }
    });
    render(AccountScreen);
    await screen.findByText(/Handoff started a server on this computer/);
    expect(screen.getByLabelText("Server address")).toHaveValue("http://127.0.0.1:8470");
    expect(screen.getByLabelText("Invite code")).toHaveValue("FIRST-RUN");
    expect(screen.getByLabelText("Email")).toHaveValue("owner@localhost");
    expect(screen.getByLabelText("Your name")).toHaveValue("ana");
    await fill("Password", "pw-1234567");
    await fireEvent.click(screen.getByRole("button", { name: "Join" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Signed in as owner@localhost");
    expect(sent).toMatchObject({ input: { server_url: "http://127.0.0.1:8470", invite_code: "FIRST-RUN", email: "owner@localhost", name: "ana" } });
  });

  it("keeps everything typed when the server does not answer", async () => {
    mockIPC((cmd) => {
      if (cmd === "account") return local;
      if (cmd === "sync_state") return idle;
      if (cmd === "join_workspace") throw { code: "offline", message: "cannot reach" };
    });
    render(AccountScreen);
    await screen.findByText(/Working locally/);
    await fill("Server address", "http://127.0.0.1:9");
    await fill("Invite code", "CODE");
    await fill("Email", "ana@example.com");
    await fill("Your name", "Ana");
    await fill("Password", "secret-pw");
    await fireEvent.click(screen.getByRole("button", { name: "Join" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The server at http://127.0.0.1:9 does not answer");
    expect(screen.getByLabelText("Server address")).toHaveValue("http://127.0.0.1:9");
    expect(screen.getByLabelText("Invite code")).toHaveValue("CODE");
    expect(screen.getByLabelText("Your name")).toHaveValue("Ana");
    expect(screen.getByLabelText("Password")).toHaveValue("secret-pw");
  });

  it("says wrong password on sign-in, and signs out", async () => {
    let signedIn = false;
    mockIPC((cmd) => {
      if (cmd === "account") return { server_url: "http://s", identity: "ana@example.com", signed_in: signedIn };
      if (cmd === "sync_state") return idle;
      if (cmd === "sign_in") throw { code: "unauthorized", message: "wrong email or password" };
      if (cmd === "sign_out") return { server_url: "http://s", identity: "ana@example.com", signed_in: false };
    });
    render(AccountScreen);
    expect(await screen.findByText(/Signed out of/)).toBeInTheDocument();
    expect(screen.getByLabelText("Server address")).toHaveValue("http://s");
    expect(screen.getByLabelText("Email")).toHaveValue("ana@example.com");
    await fill("Password", "nope");
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong email or password");
    expect(screen.getByLabelText("Password")).toHaveValue("nope");
    cleanup();

    signedIn = true;
    render(AccountScreen);
    await fireEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    await vi.waitFor(() => expect(screen.getByRole("status")).toHaveTextContent("Signed out"));
  });

  it("can sign in again at once after signing out, while the sync state is still on its way", async () => {
    let signedOut = false;
    let signIns = 0;
    mockIPC((cmd) => {
      if (cmd === "account") return { server_url: "http://s", identity: "ana@example.com", signed_in: true };
      // After the sign-out, the sync state never answers: the form must not wait for it.
      if (cmd === "sync_state") return signedOut ? new Promise(() => {}) : { ...idle, signed_in: true };
      if (cmd === "sign_out") {
        signedOut = true;
        return { server_url: "http://s", identity: "ana@example.com", signed_in: false };
      }
      if (cmd === "sign_in") {
        signIns++;
        throw { code: "unauthorized", message: "wrong email or password" };
      }
    });
    render(AccountScreen);
    await fireEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Signed out");
    await fill("Password", "wrong password");
    const submit = screen.getByRole("button", { name: "Sign in" });
    expect(submit).toBeEnabled();
    await fireEvent.click(submit);
    expect(await screen.findByRole("alert")).toHaveTextContent(/Wrong email or password/);
    expect(signIns).toBe(1);
  });

  it("shows a revoked session clearly", async () => {
    mockIPC((cmd) => {
      if (cmd === "account") return { server_url: "http://s", identity: "ana@example.com", signed_in: true };
      if (cmd === "sync_state") return { ...idle, signed_in: true, error: { code: "token_revoked", message: "revoked" } };
    });
    render(AccountScreen);
    expect(await screen.findByTestId("session-problem")).toHaveTextContent(/revoked: sign in again/);
  });

  it("changes the server address of a signed-in account: checked here first, then by the app", async () => {
    const signedIn: AccountView = { server_url: "http://old.example:8470", identity: "ana@example.com", signed_in: true };
    const calls: [string, unknown][] = [];
    let answer: "offline" | "ok" = "offline";
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "account") return signedIn;
      if (cmd === "sync_state") return { ...idle, signed_in: true };
      if (cmd === "change_server") {
        if (answer === "offline") throw { code: "offline", message: "The server at http://new.example:8470 does not answer, so the address was not changed." };
        return { ...signedIn, server_url: "http://new.example:8470" };
      }
    });
    render(AccountScreen);
    const field = await screen.findByLabelText(/^Server address \(if the server moved/);
    await vi.waitFor(() => expect(field).toHaveValue("http://old.example:8470"));
    await fireEvent.input(field, { target: { value: "new.example:8470" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change address" }));
    expect(await screen.findByTestId("server-error")).toHaveTextContent("must start with http:// or https://");
    expect(calls.some(([c]) => c === "change_server")).toBe(false);

    await fireEvent.input(field, { target: { value: "http://new.example:8470" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change address" }));
    await vi.waitFor(() => expect(screen.getByTestId("server-error")).toHaveTextContent("does not answer, so the address was not changed"));
    expect(field).toHaveValue("http://new.example:8470");

    answer = "ok";
    await fireEvent.click(screen.getByRole("button", { name: "Change address" }));
    expect(await screen.findByText("Now syncing with http://new.example:8470.")).toBeInTheDocument();
    expect(calls).toContainEqual(["change_server", { server_url: "http://new.example:8470" }]);
    expect(screen.getByTestId("account-summary")).toHaveTextContent("on http://new.example:8470");
  });
});
