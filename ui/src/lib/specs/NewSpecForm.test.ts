import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import NewSpecForm from "./NewSpecForm.svelte";

// Unmount (and unlisten) while the IPC mock still exists.
afterEach(() => {
  cleanup();
  clearMocks();
});

describe("NewSpecForm", () => {
  it("shows the error message and keeps what was typed", async () => {
    mockIPC((cmd) => {
      if (cmd === "create_spec") throw { code: "invalid", message: "invalid title: it is empty" };
    });
    const oncreated = vi.fn();
    render(NewSpecForm, { oncreated, oncancel: () => {} });
    const criteria = screen.getByLabelText(/Acceptance criteria/);
    await fireEvent.input(criteria, { target: { value: "First\nSecond" } });
    await fireEvent.click(screen.getByRole("button", { name: "Create spec" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("invalid title: it is empty");
    expect(criteria).toHaveValue("First\nSecond");
    expect(oncreated).not.toHaveBeenCalled();
  });

  it("sends the title and non-empty criteria lines", async () => {
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === "create_spec") {
        sent = args;
        return "0190e0e0-0000-7000-8000-000000000001";
      }
    });
    const oncreated = vi.fn();
    render(NewSpecForm, { oncreated, oncancel: () => {} });
    await fireEvent.input(screen.getByLabelText("Title"), { target: { value: "Export" } });
    await fireEvent.input(screen.getByLabelText(/Acceptance criteria/), { target: { value: "One\n\n  Two  \n" } });
    await fireEvent.click(screen.getByRole("button", { name: "Create spec" }));
    await vi.waitFor(() => expect(oncreated).toHaveBeenCalledWith("0190e0e0-0000-7000-8000-000000000001"));
    expect(sent).toEqual({ input: { title: "Export", criteria: ["One", "Two"] } });
  });
});
