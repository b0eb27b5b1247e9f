//! `.handoffignore` parsing as a delivery walks a folder: any ignore file (gitignore syntax)
//! never panics the walk, and the walk lists only files that are there, the ignore file's
//! rules deciding which.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use handoff_client::deliver::{IGNORE_FILE, walk};
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 6] = ["README.md", "src/main.rs", "src/lib.rs", "docs/a b.md", "build/out.bin", "é/ü.txt"];

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        for f in FILES {
            let path = dir.join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
            std::fs::write(&path, f).expect("file");
        }
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let root = folder();
    std::fs::write(root.join(IGNORE_FILE), data).expect("write the ignore file");
    if let Ok(files) = walk(root) {
        for f in files {
            assert!(f.path == IGNORE_FILE || FILES.contains(&f.path.as_str()), "walk listed {:?}", f.path);
        }
    }
});
