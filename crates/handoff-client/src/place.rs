//! Where a client lives and what it calls itself: the data dir, the server's address, the
//! device's name in the server's token list. The CLI and the app both ask here, so they
//! agree on one data dir and refuse the same addresses.

use std::path::PathBuf;

use crate::error::{ClientError, Result};

/// The environment variable that overrides the data dir (both the CLI and the app read it).
pub const DATA_DIR_ENV: &str = "HANDOFF_DATA_DIR";

/// The platform's data dir for Handoff (`~/.local/share/handoff` on Linux), shared by the
/// CLI and the app so both open one store.
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("dev", "Handoff", "handoff").map(|d| d.data_dir().to_owned()).ok_or(ClientError::NoDataDir)
}

/// `$HANDOFF_DATA_DIR` when set and not empty, else [`default_data_dir`].
pub fn data_dir_from_env() -> Result<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => default_data_dir(),
    }
}

/// A server address as typed, checked and normalized: trimmed, without a trailing `/`,
/// `http://` or `https://`, no spaces inside.
pub fn server_url(typed: &str) -> Result<String> {
    let url = typed.trim().trim_end_matches('/');
    let scheme_ok = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).is_some_and(|host| !host.is_empty());
    if !scheme_ok || url.contains(char::is_whitespace) {
        return Err(ClientError::InvalidServerUrl { url: url.chars().take(200).collect() });
    }
    Ok(url.to_owned())
}

/// This device's name in the server's token list: `"{program} on {host}"`, the host being
/// `$HANDOFF_DEVICE_NAME` when set, else the machine's hostname.
pub fn device_name(program: &str) -> String {
    std::env::var("HANDOFF_DEVICE_NAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_owned())
        .filter(|h| !h.is_empty())
        .map(|h| format!("{program} on {h}"))
        .unwrap_or_else(|| program.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked_and_normalized() {
        assert_eq!(server_url("  https://handoff.example.com/ ").expect("ok"), "https://handoff.example.com");
        assert_eq!(server_url("http://127.0.0.1:8470").expect("ok"), "http://127.0.0.1:8470");
        for bad in ["handoff.example.com", "ftp://x", "https://", "http://a b", ""] {
            let err = server_url(bad).expect_err(bad);
            assert_eq!(err.code(), crate::Code::InvalidServerUrl, "{bad}");
        }
    }
}
