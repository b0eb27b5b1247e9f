//! `handoff diff`: two files, two folders, or two revisions of a spec. Exit codes follow
//! diff(1): 0 when equal, 1 when different, 2 on trouble.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use handoff_client::Client;
use handoff_client::diffing::{self, Tree};
use handoff_diff::{
    Content, DiffOptions, FileContent, FileRender, FileStatus, PatchOptions, RenderOptions, TextDiff, WhitespaceMode, classify,
    text_patch,
};

/// Output forms.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A unified patch that `git apply` and `patch -p1` accept.
    Unified,
    /// The render model: hunks, rows, word highlights.
    Json,
}

/// Most lines of context a diff may ask for: more than any file shown whole needs.
const MAX_CONTEXT: u64 = 1_000_000;

/// `handoff diff OLD NEW` or `handoff diff SPEC FROM TO`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Two files or folders, or a spec and two revision numbers.
    #[arg(num_args = 2..=3, required = true)]
    operands: Vec<String>,
    /// Output form.
    #[arg(long, value_enum, default_value = "unified")]
    format: Format,
    /// Lines of context around each change.
    #[arg(long, short = 'U', default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_CONTEXT))]
    context: usize,
    /// Ignore all white space when comparing lines.
    #[arg(long, short = 'w')]
    ignore_whitespace: bool,
    /// Print a summary of changed files and line counts instead of the diff.
    #[arg(long)]
    stat: bool,
}

/// Runs the diff; `Ok(true)` when the inputs differ.
pub fn run(client: impl FnOnce() -> Result<Arc<Client>>, args: &DiffArgs) -> Result<bool> {
    let whitespace = if args.ignore_whitespace { WhitespaceMode::IgnoreAll } else { WhitespaceMode::Exact };
    let out = std::io::stdout();
    let mut out = out.lock();
    match args.operands.as_slice() {
        [old, new] => {
            let (o, n) = (Path::new(old), Path::new(new));
            let (om, nm) = (meta(o)?, meta(n)?);
            match (om.is_dir(), nm.is_dir()) {
                (false, false) => files(&mut out, o, n, args, whitespace),
                (true, true) => {
                    let (ot, nt) = (diffing::load_folder(o)?, diffing::load_folder(n)?);
                    trees(&mut out, &ot, &nt, args, whitespace)
                }
                _ => bail!("cannot compare a folder with a file: {} and {}", o.display(), n.display()),
            }
        }
        [spec, from, to] => {
            let client = client()?;
            let spec = client.resolve_spec(spec)?;
            let number = |s: &str| match s.trim_start_matches(['r', 'R']).parse::<u32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(anyhow::anyhow!("{s:?} is not a revision number (they count from 1)")),
            };
            let (from, to) = (number(from)?, number(to)?);
            // Online, what is not here yet is downloaded first; offline, revision_tree names
            // the revision that is missing.
            crate::sync_cmds::fetch_quietly(&client, spec, &[from, to]);
            let (ot, nt) = (client.revision_tree(spec, from)?, client.revision_tree(spec, to)?);
            trees(&mut out, &ot, &nt, args, whitespace)
        }
        _ => bail!("give two files or folders, or a spec and two revision numbers"),
    }
}

fn meta(p: &Path) -> Result<std::fs::Metadata> {
    std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))
}

fn files(out: &mut impl Write, o: &Path, n: &Path, args: &DiffArgs, whitespace: WhitespaceMode) -> Result<bool> {
    let ob = std::fs::read(o).with_context(|| format!("cannot read {}", o.display()))?;
    let nb = std::fs::read(n).with_context(|| format!("cannot read {}", n.display()))?;
    let (ol, nl) = (o.display().to_string(), n.display().to_string());
    let (Content::Text(ot), Content::Text(nt)) = (classify(&ob), classify(&nb)) else {
        let differ = ob != nb;
        if args.format == Format::Json {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({ "binary": true, "differ": differ, "old_size": ob.len(), "new_size": nb.len() }),
            )?;
            writeln!(out)?;
        } else if differ {
            writeln!(out, "Binary files {ol} and {nl} differ")?;
        }
        return Ok(differ);
    };
    let diff = TextDiff::new(ot, nt, &DiffOptions { whitespace });
    let differ = !diff.is_unchanged();
    if args.stat {
        let s = diff.stats();
        if differ {
            writeln!(
                out,
                " {nl} | {} {}\n 1 file changed, {} insertions(+), {} deletions(-)",
                s.added + s.removed,
                bar(s.added, s.removed),
                s.added,
                s.removed
            )?;
        }
    } else if args.format == Format::Json {
        let render: FileRender<'_> = diff.render(&RenderOptions { context: args.context, word_highlights: true });
        serde_json::to_writer(&mut *out, &render)?;
        writeln!(out)?;
    } else if differ {
        out.write_all(
            text_patch(&diff, &ol, &nl, &PatchOptions { context: args.context, ..PatchOptions::default() }).as_bytes(),
        )?;
    }
    Ok(differ)
}

fn trees(out: &mut impl Write, old: &Tree, new: &Tree, args: &DiffArgs, whitespace: WhitespaceMode) -> Result<bool> {
    let tree_diff = diffing::TreeDiff::new(old, new, whitespace)?;
    let diff = &tree_diff.diff;
    let differ = !diff.files.is_empty();
    if args.stat {
        for f in &diff.files {
            let (changes, what) = match f.content {
                FileContent::Text { added, removed } => (format!("{}", added + removed), bar(added, removed)),
                FileContent::Binary => (
                    "Bin".into(),
                    format!("{} -> {} bytes", f.old.as_ref().map_or(0, |v| v.size), f.new.as_ref().map_or(0, |v| v.size)),
                ),
                FileContent::Unchanged | FileContent::Unavailable => ("0".into(), String::new()),
            };
            let name = match (f.status, &f.old) {
                (FileStatus::Renamed, Some(o)) => format!("{} => {}", o.path, f.path()),
                _ => f.path().to_owned(),
            };
            writeln!(out, " {name} | {changes} {what}")?;
        }
        let s = diff.stats();
        if differ {
            writeln!(out, " {} files changed, {} insertions(+), {} deletions(-)", diff.files.len(), s.added, s.removed)?;
        }
    } else if args.format == Format::Json {
        serde_json::to_writer(&mut *out, &tree_diff.rendered(args.context))?;
        writeln!(out)?;
    } else {
        out.write_all(tree_diff.patch(args.context)?.as_bytes())?;
    }
    Ok(differ)
}

/// A git-style `+++--` bar, at most 40 wide.
fn bar(added: usize, removed: usize) -> String {
    let total = added + removed;
    let scale = |n: usize| if total > 40 { (n * 40).div_ceil(total) } else { n };
    format!("{}{}", "+".repeat(scale(added)), "-".repeat(scale(removed)))
}
