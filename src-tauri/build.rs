//! Tauri's build step: reads tauri.conf.json and the capabilities, embeds the icons and the
//! UI from `../ui/dist`.

use std::path::Path;

fn main() {
    // `cargo build --workspace` must work before the UI was ever built (`cargo xtask run`
    // builds it first): stand in a page that says so, instead of failing the whole build.
    let dist = Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        let page = "<!doctype html><meta charset=utf-8><title>Handoff</title>\
                    <p>The UI was not built. Run <code>cargo xtask run</code>.</p>";
        if let Err(e) = std::fs::create_dir_all(dist).and_then(|()| std::fs::write(dist.join("index.html"), page)) {
            println!("cargo:warning=cannot write a placeholder ui/dist: {e}");
        }
    }
    println!("cargo:rerun-if-changed=../ui/dist/index.html");
    tauri_build::build()
}
