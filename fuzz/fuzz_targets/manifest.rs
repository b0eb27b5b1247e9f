//! Manifest validation: never panics, and what it accepts really is a set of paths that can
//! all exist on one disk (checked here the slow, obvious way).
#![no_main]

use handoff_core::ManifestEntry;
use handoff_core::validate::{manifest, normalize_path, path_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|paths: Vec<String>| {
    for p in &paths {
        if let Ok(n) = normalize_path(p) {
            assert_eq!(normalize_path(&n).as_deref(), Ok(n.as_str()), "normal form is a fixed point");
        }
    }
    let entries: Vec<ManifestEntry> =
        paths.iter().map(|p| ManifestEntry { path: p.clone(), sha256: "0".repeat(64), size: 1, executable: false }).collect();
    if manifest(&entries).is_ok() && paths.len() <= 64 {
        let keys: Vec<String> = paths.iter().map(|p| path_key(p)).collect();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                if i != j {
                    assert_ne!(a, b, "{:?} and {:?} were both accepted", paths[i], paths[j]);
                    assert!(
                        !b.starts_with(&format!("{a}/")),
                        "{:?} is a file and a folder of {:?}, and was accepted",
                        paths[i],
                        paths[j]
                    );
                }
            }
        }
    }
});
