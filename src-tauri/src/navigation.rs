//! The window never leaves the app: every navigation of a webview to anything but the app's
//! own pages is refused (a link that slipped past the UI's handler, `window.location = …`
//! from a page). Links are opened in the system browser by the UI instead, after it has shown
//! the address (`ui/src/lib/shell/LinkConfirm.svelte`, through the opener plugin).

use tauri::plugin::TauriPlugin;
use tauri::{Emitter, Runtime, Url};

/// The event the UI hears when a navigation was refused; its payload is the refused address.
pub const NAVIGATION_REFUSED: &str = "navigation-refused";

/// Whether `url` is one of the app's own pages: its bundled assets (`tauri://localhost` on
/// Linux and macOS, `http(s)://tauri.localhost` on Windows) or the empty page a webview
/// starts from.
pub fn is_app_page(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        "about" => url.path() == "blank",
        _ => false,
    }
}

/// A plugin whose navigation hook refuses everything [`is_app_page`] does not allow, and
/// tells the UI so it can say what happened.
pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let allowed = is_app_page(url);
            if !allowed {
                tracing::warn!(%url, "refused to navigate the app window away from the app");
                let _ = webview.emit(NAVIGATION_REFUSED, url.as_str());
            }
            allowed
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(url: &str) -> bool {
        is_app_page(&Url::parse(url).expect("url"))
    }

    #[test]
    fn only_the_apps_own_pages_may_load_in_the_window() {
        assert!(allowed("tauri://localhost/"));
        assert!(allowed("tauri://localhost/index.html#spec"));
        assert!(allowed("http://tauri.localhost/"));
        assert!(allowed("about:blank"));
        for away in [
            "https://example.com/",
            "http://localhost:8470/",
            "https://tauri.localhost.example.com/",
            "tauri://evil/",
            "file:///etc/passwd",
            "mailto:ana@example.com",
            "javascript:alert(1)",
            "about:config",
            "data:text/html,hi",
        ] {
            assert!(!allowed(away), "{away} must not load in the app window");
        }
    }
}
