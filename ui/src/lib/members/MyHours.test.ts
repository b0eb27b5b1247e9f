import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { MyProfile } from "../ipc";
import MyHours from "./MyHours.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

const LISBON: MyProfile = {
  timezone: "Europe/Lisbon",
  working_hours: { start_minute: 540, end_minute: 1050, days: 31 },
  hours_text: "09:00-17:30 mon-fri",
  unsent: false,
  local_now: { year: 2026, month: 12, day: 5, hour: 18, minute: 5, weekday: 4, offset_minutes: 0 },
  working_now: false,
};

describe("MyHours", () => {
  it("shows one's zone, hours and clock, and sends a change as typed", async () => {
    const calls: [string, unknown][] = [];
    mockIPC(
      (cmd, args) => {
        calls.push([cmd, args]);
        if (cmd === "my_profile") return LISBON;
        if (cmd === "set_my_profile") return { ...LISBON, timezone: "Asia/Kathmandu", hours_text: "09:00-18:00 sun-thu", unsent: true };
        return null;
      },
      { shouldMockEvents: true },
    );
    render(MyHours);
    expect(await screen.findByText(/Europe\/Lisbon, 09:00-17:30 mon-fri/)).toHaveTextContent("now Fri 18:05");
    await fireEvent.click(screen.getByTestId("my-hours-edit"));
    expect(screen.getByTestId("my-hours-input")).toHaveValue("09:00-17:30");
    expect(screen.getByTestId("my-days")).toHaveValue("mon-fri");
    await fireEvent.input(screen.getByTestId("my-zone"), { target: { value: " Asia/Kathmandu " } });
    await fireEvent.input(screen.getByTestId("my-hours-input"), { target: { value: "09:00-18:00" } });
    await fireEvent.input(screen.getByTestId("my-days"), { target: { value: "sun-thu" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByTestId("profile-unsent")).toHaveTextContent("not sent yet");
    expect(calls.find(([c]) => c === "set_my_profile")?.[1]).toEqual({ timezone: "Asia/Kathmandu", hours: "09:00-18:00", days: "sun-thu" });
  });

  it("keeps the form and says why when Rust refuses the hours", async () => {
    mockIPC(
      (cmd) => {
        if (cmd === "my_profile") return LISBON;
        if (cmd === "set_my_profile")
          throw { code: "invalid", message: 'invalid working hours "17:00-09:00": the hours end before they start: write the earlier time first' };
        return null;
      },
      { shouldMockEvents: true },
    );
    render(MyHours);
    await fireEvent.click(await screen.findByTestId("my-hours-edit"));
    await fireEvent.input(screen.getByTestId("my-hours-input"), { target: { value: "17:00-09:00" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByTestId("my-hours-error")).toHaveTextContent("the hours end before they start");
    expect(screen.getByTestId("my-hours-input")).toHaveValue("17:00-09:00");
  });
});
