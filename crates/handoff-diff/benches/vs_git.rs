//! Line diff and render model against `git diff --no-index --histogram`, measured in the same run.
//!
//! Run: `cargo bench -p handoff-diff --bench vs_git` (`VS_GIT_RUNS=N` sets the rounds, default 11).
//! Prints, per fixture pair, our median time, git's median time net of its process start (a
//! trivial diff of two tiny files timed in the same rounds), the ratio, and the changed-line
//! counts of both. Each round times every contender once, in turn, so load changes on a shared
//! machine hit all of them alike. Absolute times are noisy; the ratios are the figures to read.
//!
//! Small pairs are diffed by git as `K` copies at once (`git diff --no-index DIR_A DIR_B`, each
//! directory holding `K` copies of its file) and git's net time is divided by `K`: otherwise
//! git's work on a 60 KB file is far below the jitter of its process start.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use handoff_diff::{DiffOptions, RenderOptions, TextDiff};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/diff/");

const PAIRS: &[(&str, &str)] = &[
    ("whatwg-source.old-small", "whatwg-source.new"),
    ("whatwg-source.old-mid", "whatwg-source.new"),
    ("whatwg-source.old-large", "whatwg-source.new"),
    ("faq-md.old-small", "faq-md.new"),
    ("faq-md.old-large", "faq-md.new"),
];

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn time_once<T>(mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

fn git(args: &[&str], old: &Path, new: &Path, capture: bool) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["diff", "--no-index", "--no-color", "--no-ext-diff", "--histogram"])
        .args(args)
        .arg(old)
        .arg(new)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .stdout(if capture { Stdio::piped() } else { Stdio::null() });
    cmd
}

/// One timed git run; `None` if git is missing or fails (`--no-index` exits 1 on a difference).
fn time_git_once(args: &[&str], old: &Path, new: &Path) -> Option<Duration> {
    let start = Instant::now();
    let status = git(args, old, new, false).status().ok()?;
    let elapsed = start.elapsed();
    if status.code().is_none_or(|c| c > 1) {
        return None;
    }
    Some(elapsed)
}

/// Medians over `runs` rounds (after one warm-up round) of each contender; `None` if one failed.
fn rounds(runs: usize, contenders: &mut [&mut dyn FnMut() -> Option<Duration>]) -> Vec<Option<Duration>> {
    let mut samples: Vec<Option<Vec<Duration>>> = vec![Some(Vec::new()); contenders.len()];
    for round in 0..=runs {
        for (contender, slot) in contenders.iter_mut().zip(samples.iter_mut()) {
            match (contender(), slot.as_mut()) {
                (Some(d), Some(v)) if round > 0 => v.push(d),
                (None, _) => *slot = None,
                _ => {}
            }
        }
    }
    samples.into_iter().map(|s| s.map(median)).collect()
}

/// Sums git's numstat over all files it reports.
fn git_numstat(old: &Path, new: &Path) -> Option<(usize, usize)> {
    let out = git(&["--numstat"], old, new, true).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut total = (0, 0);
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        total.0 += fields.next()?.parse::<usize>().ok()?;
        total.1 += fields.next()?.parse::<usize>().ok()?;
    }
    Some(total)
}

/// Lays out `copies` copies of the pair as two directories; returns the directories.
fn replicate(scratch: &Path, name: &str, old: &str, new: &str, copies: usize) -> Option<(PathBuf, PathBuf)> {
    let (a, b) = (scratch.join(format!("{name}.a")), scratch.join(format!("{name}.b")));
    std::fs::create_dir_all(&a).ok()?;
    std::fs::create_dir_all(&b).ok()?;
    for k in 0..copies {
        std::fs::write(a.join(format!("f{k}")), old).ok()?;
        std::fs::write(b.join(format!("f{k}")), new).ok()?;
    }
    Some((a, b))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the large pair's row leaves for the render-model summary.
struct Large {
    old: String,
    new: String,
    full: Option<Duration>,
    git_numstat: Option<Duration>,
    git_patch: Option<Duration>,
}

fn main() {
    let dir = PathBuf::from(FIXTURES);
    let runs: usize = std::env::var("VS_GIT_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(11).max(1);
    let scratch = std::env::temp_dir().join(format!("handoff-diff-bench-{}", std::process::id()));
    let tiny = (scratch.join("a"), scratch.join("b"));
    let have_git = std::fs::create_dir_all(&scratch).is_ok()
        && std::fs::write(&tiny.0, "a\n").is_ok()
        && std::fs::write(&tiny.1, "b\n").is_ok()
        && Command::new("git").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());

    println!("command: cargo bench -p handoff-diff --bench vs_git   (VS_GIT_RUNS={runs})");
    println!("ours: TextDiff::new (split lines, intern, histogram, slider heuristic) on texts in memory");
    println!("git:  git diff --no-index --histogram --numstat (and plain patch output to /dev/null), net of");
    println!("      git's process start (a diff of two 2-byte files in the same rounds); medians of {runs} rounds");
    if !have_git {
        println!("git not available: printing our figures only");
    }
    println!();
    println!(
        "{:<28} {:>9} {:>11} {:>11} {:>7} {:>15} {:>15}",
        "pair (old -> new)", "ours ms", "git net ms", "git patch", "ratio", "ours +/-", "git +/-"
    );
    let options = DiffOptions::default();
    let mut large: Option<Large> = None;
    let mut start_up = None;
    for (old_name, new_name) in PAIRS {
        let (old_path, new_path) = (dir.join(old_name), dir.join(new_name));
        let (Ok(old), Ok(new)) = (std::fs::read_to_string(&old_path), std::fs::read_to_string(&new_path)) else {
            println!("{old_name}: fixture missing under {}", dir.display());
            continue;
        };
        let stats = TextDiff::new(&old, &new, &options).stats();
        // About 8 MB per git run, so git's work stands well above its start-up jitter.
        let copies = (8_000_000 / (old.len() + new.len()).max(1)).clamp(1, 200);
        let (git_old, git_new) = match replicate(&scratch, old_name, &old, &new, copies) {
            Some(dirs) if copies > 1 => dirs,
            _ => (old_path.clone(), new_path.clone()),
        };
        let copies_used = if git_old.is_dir() { copies } else { 1 };
        let is_large = *old_name == "whatwg-source.old-large";

        let mut ours = || Some(time_once(|| TextDiff::new(&old, &new, &options).changes().len()));
        let mut full =
            || is_large.then(|| time_once(|| TextDiff::new(&old, &new, &options).render(&RenderOptions::default()).hunks.len()));
        let mut git_start = || if have_git { time_git_once(&["--numstat"], &tiny.0, &tiny.1) } else { None };
        let mut git_numstat_run = || if have_git { time_git_once(&["--numstat"], &git_old, &git_new) } else { None };
        let mut git_patch_run = || if have_git { time_git_once(&[], &git_old, &git_new) } else { None };
        let medians = rounds(runs, &mut [&mut ours, &mut full, &mut git_start, &mut git_numstat_run, &mut git_patch_run]);
        let [ours, full, start, numstat, patch] = [medians[0], medians[1], medians[2], medians[3], medians[4]];
        start_up = start.or(start_up);

        let net = |d: Option<Duration>| d.zip(start).map(|(d, s)| d.saturating_sub(s) / copies_used as u32);
        let (git_net, git_patch_net) = (net(numstat), net(patch));
        let counts = if have_git { git_numstat(&git_old, &git_new) } else { None };
        let counts = counts.map(|(a, r)| (a / copies_used, r / copies_used));
        let fmt_ms = |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.3}", ms(d)));
        let ours = ours.unwrap_or_default();
        let ratio = git_net.map_or("-".to_string(), |g| format!("{:.2}", ms(ours) / ms(g).max(0.001)));
        let label = format!(
            "{}{}",
            old_name.replace("-source", ""),
            if copies_used > 1 { format!(" (git x{copies_used})") } else { String::new() }
        );
        println!(
            "{label:<28} {:>9.3} {:>11} {:>11} {:>7} {:>15} {:>15}",
            ms(ours),
            fmt_ms(git_net),
            fmt_ms(git_patch_net),
            ratio,
            format!("+{}/-{}", stats.added, stats.removed),
            counts.map_or("-".to_string(), |(a, r)| format!("+{a}/-{r}")),
        );
        if is_large {
            large = Some(Large { old: old.clone(), new: new.clone(), full, git_numstat: git_net, git_patch: git_patch_net });
        }
    }
    if let Some(start) = start_up {
        println!("(git process start, median of the last row's rounds: {:.2} ms)", ms(start));
    }

    println!();
    if let Some(Large { old, new, full, git_numstat, git_patch }) = large {
        let diff = TextDiff::new(&old, &new, &options);
        let render = diff.render(&RenderOptions::default());
        let rows: usize = render.hunks.iter().map(|h| h.rows.len()).sum();
        let highlighted = render
            .hunks
            .iter()
            .flat_map(|h| &h.rows)
            .filter(|r| r.old.as_ref().or(r.new.as_ref()).is_some_and(|c| c.segments.is_some()))
            .count();
        println!(
            "full render model, whatwg old-large -> new: diff + {} hunks, {rows} rows (context 3), {highlighted} rows with word highlights",
            render.hunks.len()
        );
        println!("  {:.2} ms (median, same rounds as the table row)", ms(full.unwrap_or_default()));
        if let (Some(full), Some(numstat), Some(patch)) = (full, git_numstat, git_patch) {
            println!(
                "  ratio to git's net time: {:.2} (vs --numstat), {:.2} (vs plain patch output)",
                ms(full) / ms(numstat).max(0.001),
                ms(full) / ms(patch).max(0.001)
            );
        }
    }
    algorithm_choice(&dir, runs.min(5));
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Why lines go through imara-diff: the alternatives `similar` offers, on the large pair.
fn algorithm_choice(dir: &Path, runs: usize) {
    let (Ok(old), Ok(new)) =
        (std::fs::read_to_string(dir.join("whatwg-source.old-large")), std::fs::read_to_string(dir.join("whatwg-source.new")))
    else {
        return;
    };
    println!();
    println!("line algorithm choice, whatwg old-large -> new (median of {runs}):");
    let (old, new) = (old.as_str(), new.as_str());
    let ours = move || {
        let d = TextDiff::new(old, new, &DiffOptions::default());
        let s = d.stats();
        (s.added, s.removed)
    };
    let similar_with = |alg: similar::Algorithm| {
        move || {
            let diff = similar::TextDiff::configure().algorithm(alg).diff_lines(old, new);
            diff.ops().iter().fold((0, 0), |(a, r), op| {
                let (_, old_range, new_range) = op.as_tag_tuple();
                match op.tag() {
                    similar::DiffTag::Equal => (a, r),
                    _ => (a + new_range.len(), r + old_range.len()),
                }
            })
        }
    };
    let mut imara_time = None;
    type Counter<'f> = Box<dyn Fn() -> (usize, usize) + 'f>;
    let contenders: [(&str, Counter<'_>); 3] = [
        ("imara-diff Histogram + sliders (ours)", Box::new(ours)),
        ("similar Histogram", Box::new(similar_with(similar::Algorithm::Histogram))),
        ("similar Myers", Box::new(similar_with(similar::Algorithm::Myers))),
    ];
    for (name, f) in contenders {
        let counts = f();
        let t = median((0..runs).map(|_| time_once(&f)).collect());
        let base = *imara_time.get_or_insert(t);
        println!("  {name:<40} {:>9.2} ms  x{:<6.1} +{}/-{}", ms(t), ms(t) / ms(base).max(0.001), counts.0, counts.1);
    }
}
