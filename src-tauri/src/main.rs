//! The `handoff-app` binary: the desktop app.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    handoff_app::run()
}
