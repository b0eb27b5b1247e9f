//! Files that survive crashes and power loss, shared by the client's and the server's blob
//! stores.
//!
//! A temp file is created as `NAME.new`, locked (`flock`), and only then named
//! `NAME.part`; its writer holds the lock until the file is renamed into place or removed.
//! So a sweep can tell abandoned temp files from live ones even while other processes write
//! (the CLI beside the app, `handoff-server invite` beside the server): an unlocked `*.part`
//! lost its writer, and a `*.new` older than [`ABANDONED_AFTER`] was never locked.
//! [`place`] renames a finished file to its address and syncs the folders whose entries
//! changed: a rename is durable only once its folder is.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How old a `*.new` temp file (created, not yet locked) must be to count as abandoned; a
/// writer keeps one for the instant between creating and locking it.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// Creates `dir/NAME.part` for writing, locked for as long as the returned file is open.
/// Fails with `AlreadyExists` when the name is taken.
pub fn create_locked_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let (new, part) = (dir.join(format!("{name}.new")), dir.join(format!("{name}.part")));
    let file = fs::OpenOptions::new().write(true).create_new(true).open(&new)?;
    // A hard link, unlike a rename, refuses to replace a `NAME.part` that exists.
    let named = file.lock().and_then(|()| fs::hard_link(&new, &part));
    let _ = fs::remove_file(&new);
    named?;
    Ok((file, part))
}

/// Removes the temp files in `dir` that no process is writing: unlocked `*.part` files and
/// `*.new` files older than [`ABANDONED_AFTER`]. Failing to sweep costs only disk space, so
/// errors are ignored.
pub fn sweep_abandoned(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let abandoned = match path.extension().and_then(|e| e.to_str()) {
            Some("part") => fs::OpenOptions::new().write(true).open(&path).is_ok_and(|f| f.try_lock().is_ok()),
            Some("new") => {
                entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|idle| idle >= ABANDONED_AFTER))
            }
            _ => false,
        };
        if abandoned {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Renames the synced file `tmp` to `dest` inside the store at `root`, creating `dest`'s
/// folder when needed, and syncs every folder whose entries changed (the new folder's parent,
/// and `dest`'s folder after the rename).
pub fn place(tmp: &Path, dest: &Path, root: &Path) -> io::Result<()> {
    let folder = dest.parent().unwrap_or(root);
    if !folder.is_dir() {
        fs::create_dir_all(folder)?;
        sync_dir(folder.parent().unwrap_or(root))?;
    }
    fs::rename(tmp, dest)?;
    sync_dir(folder)
}

/// Makes the entries of `dir` durable. Only Unix lets a folder be opened and synced; NTFS
/// journals its metadata itself.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Abandoned temp files go; one another process is still writing (locked), one being
    /// created this instant, and files that are not temp files stay.
    #[test]
    fn a_sweep_removes_only_abandoned_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        fs::write(d.join("killed.part"), b"half").expect("killed");
        let stale = File::create(d.join("stale.new")).expect("stale");
        stale.set_modified(SystemTime::now() - ABANDONED_AFTER * 2).expect("age");
        drop(stale);
        let (writing, _) = create_locked_temp(d, "writing").expect("writer");
        fs::write(d.join("creating.new"), b"").expect("creating");
        fs::write(d.join("keep.download"), b"x").expect("other");
        sweep_abandoned(d);
        assert_eq!(names(d), ["creating.new", "keep.download", "writing.part"]);
        drop(writing);
        sweep_abandoned(d);
        assert_eq!(names(d), ["creating.new", "keep.download"], "its writer is gone");
    }

    #[test]
    fn a_taken_name_is_refused_and_placing_makes_the_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tmp, root) = (dir.path().join("tmp"), dir.path());
        fs::create_dir_all(&tmp).expect("tmp");
        let (mut file, part) = create_locked_temp(&tmp, "a").expect("first");
        assert_eq!(create_locked_temp(&tmp, "a").map(|_| ()).map_err(|e| e.kind()), Err(io::ErrorKind::AlreadyExists));
        io::Write::write_all(&mut file, b"blob").expect("write");
        let dest = root.join("ab").join("cdef");
        place(&part, &dest, root).expect("place");
        assert_eq!(fs::read(&dest).expect("placed"), b"blob");
        assert_eq!(names(&tmp), Vec::<String>::new());
    }
}
