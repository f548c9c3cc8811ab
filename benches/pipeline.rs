//! The benchmark: the whole pipeline on a real corpus against the floor (reading the files, `rg` over them
//! where installed, a bare `syn::parse_file` of each, on one core and on all), and a one-file re-analysis as the language server
//! does it. Run: `cargo bench --bench pipeline -- <folder>` (or `HOPCHECK_BENCH_CORPUS=<folder>`); without
//! a folder it uses the corpus `benches/corpus.sh` vendors from crates.io into ~/.cache/hopcheck-bench.
//! It prints a table; it asserts nothing. `-- --edit-only <folder>` times the language server's step alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let corpus = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOPCHECK_BENCH_CORPUS").map(PathBuf::from))
        .unwrap_or_else(default_corpus);
    // `--edit-only`: the language server's step alone, many times (for a profiler).
    if std::env::args().any(|a| a == "--edit-only") {
        if let Some(d) = edit_step(&corpus, 30) {
            println!(
                "one file edited (language server): {:.1} ms",
                d.as_secs_f64() * 1000.0
            );
        }
        return;
    }
    if !corpus.is_dir() {
        eprintln!(
            "no corpus at {}: run benches/corpus.sh, or pass a folder",
            corpus.display()
        );
        return;
    }
    let files = rust_files(&corpus);
    let bytes: u64 = files.iter().map(|f| f.1.len() as u64).sum();
    let lines: usize = files.iter().map(|f| f.1.lines().count()).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus {}: {} files, {} lines, {:.1} MB; {} cores",
        corpus.display(),
        files.len(),
        lines,
        mb,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let read = best(|| {
        for (path, _) in &files {
            let _ = std::fs::read(path);
        }
    });
    let rg = which("rg").map(|rg| {
        best(|| {
            let _ = Command::new(&rg)
                .args(["-n", "--type", "rust", r"\.await"])
                .arg(&corpus)
                .output();
        })
    });
    let syn_one = best(|| {
        for (_, text) in &files {
            let _ = syn::parse_file(text);
        }
    });
    let syn_all = best(|| {
        use rayon::prelude::*;
        files.par_iter().for_each(|(_, text)| {
            let _ = syn::parse_file(text);
        });
    });
    let bin = env!("CARGO_BIN_EXE_hopcheck");
    // Cold runs parse every file (`--no-cache`); warm ones follow a first run that filled the cache: with
    // nothing changed since, it prints the kept report.
    let cache = std::env::temp_dir().join(format!("hopcheck-bench-cache-{}", std::process::id()));
    let run = |threads: Option<&str>, warm: bool| {
        let command = || {
            let mut cmd = Command::new("/usr/bin/time");
            cmd.args(["-f", "%M", bin, "check", "--format", "json", "-q"])
                .arg(&corpus);
            match warm {
                true => cmd.arg("--cache-dir").arg(&cache),
                false => cmd.arg("--no-cache"),
            };
            if let Some(t) = threads {
                cmd.env("RAYON_NUM_THREADS", t);
            }
            cmd
        };
        if warm {
            let _ = command().output();
        }
        timed(command)
    };
    let (all, peak_all) = run(None, false);
    let (one, peak_one) = run(Some("1"), false);
    let (warm, peak_warm) = run(None, true);
    // `--compare-to HEAD~1` on a small change, from the cache: a copy of the corpus in a repository of
    // two commits, the second editing one file, analysed once to fill the cache.
    let repo = two_commits(&corpus);
    // Runs after one more file changed in the work tree, each round another change: that file parsed,
    // every other file's facts from the cache (and, comparing, the base's summary kept).
    let edited = repo.as_ref().and_then(|repo| {
        let (edited, _) = files.get(files.len() / 3)?;
        let edited = repo.path().join(edited.strip_prefix(&corpus).ok()?);
        let text = std::fs::read_to_string(&edited).ok()?;
        Some((repo.path().to_path_buf(), edited, text))
    });
    let after_edits = |compare: bool| {
        let (repo, edited, text) = edited.as_ref()?;
        let round = std::cell::Cell::new(0);
        let command = || {
            round.set(round.get() + 1);
            let _ = std::fs::write(edited, format!("{text}\n// edit {}\n", round.get()));
            let mut cmd = Command::new("/usr/bin/time");
            cmd.args([
                "-f",
                "%M",
                bin,
                "check",
                "--format",
                "json",
                "-q",
                "--cache-dir",
            ])
            .arg(&cache)
            .arg(repo);
            if compare {
                cmd.args(["--compare-to", "HEAD~1"]);
            }
            cmd
        };
        let _ = command().output();
        let measured = timed(command);
        let _ = std::fs::write(edited, text);
        Some(measured)
    };
    let changed = after_edits(false);
    let compared_edited = after_edits(true);
    // `--compare-to HEAD~1` again with nothing changed since.
    let compared = repo.map(|repo| {
        let command = || {
            let mut cmd = Command::new("/usr/bin/time");
            cmd.args(["-f", "%M", bin, "check", "--format", "json", "-q"])
                .args(["--compare-to", "HEAD~1", "--cache-dir"])
                .arg(&cache)
                .arg(repo.path());
            cmd
        };
        let _ = command().output();
        timed(command)
    });
    // The language server's first analysis, with the cache the command line filled.
    let first_analysis = {
        let _ = Command::new(bin)
            .args(["check", "--format", "json", "-q", "--cache-dir"])
            .arg(&cache)
            .arg(&corpus)
            .output();
        best(|| {
            let root = corpus
                .canonicalize()
                .unwrap_or_else(|_| corpus.to_path_buf());
            let mut config = hopcheck::config::Config::default_topology();
            config.cache_file = hopcheck::cache::pack_for(Some(&cache), &root);
            let mut workspace = hopcheck::lsp::Workspace::new(root);
            let _ = workspace.analyze(&std::collections::HashMap::new(), config);
        })
    };
    let _ = std::fs::remove_dir_all(&cache);
    // The closest peer, a per-file syn linter, on the same tree where it is installed.
    let peer = which("cargo-perf").map(|peer| {
        timed(|| {
            let mut cmd = Command::new("/usr/bin/time");
            cmd.args(["-f", "%M"])
                .arg(&peer)
                .args(["--format", "json", "check"])
                .arg(&corpus);
            cmd
        })
    });

    let Some(incremental) = edit_step(&corpus, 3) else {
        return;
    };

    let floor = rg.unwrap_or(read);
    let row = |name: &str, d: Duration, peak: Option<u64>| {
        let s = d.as_secs_f64();
        println!(
            "{name:<40} {:>9.1} ms {:>8.1} MB/s {:>7.1}× floor{}",
            s * 1000.0,
            mb / s,
            s / floor.as_secs_f64(),
            peak.map(|kb| format!("  peak {:.0} MiB", kb as f64 / 1024.0))
                .unwrap_or_default()
        );
    };
    row("read every file", read, None);
    if let Some(rg) = rg {
        row("rg -n '\\.await' (the floor)", rg, None);
    }
    row("syn::parse_file of every file, 1 core", syn_one, None);
    row("syn::parse_file of every file, all cores", syn_all, None);
    row("hopcheck check, 1 core", one, Some(peak_one));
    row("hopcheck check, all cores", all, Some(peak_all));
    row(
        "hopcheck check again, nothing changed",
        warm,
        Some(peak_warm),
    );
    if let Some((wall, peak)) = changed {
        row("hopcheck check, one file changed, cache", wall, Some(peak));
    }
    if let Some((wall, peak)) = compared_edited {
        row(
            "--compare-to HEAD~1, one more file changed",
            wall,
            Some(peak),
        );
    }
    if let Some((wall, peak)) = compared {
        row(
            "--compare-to HEAD~1 again, nothing changed",
            wall,
            Some(peak),
        );
    }
    row(
        "language server's first analysis, cache",
        first_analysis,
        None,
    );
    if let Some((wall, peak)) = peer {
        row("cargo-perf check (a per-file peer)", wall, Some(peak));
    }
    row("one file edited (language server)", incremental, None);
}

/// The language server's step after an edit, the fastest of `rounds`.
fn edit_step(corpus: &Path, rounds: usize) -> Option<Duration> {
    // The language server's step after an edit: the edited buffer parsed again, the stages after
    // parsing run on every file's facts (shared with its cache), as `hopcheck lsp` does.
    let root = corpus
        .canonicalize()
        .unwrap_or_else(|_| corpus.to_path_buf());
    let mut workspace = hopcheck::lsp::Workspace::new(root.clone());
    let mut open = std::collections::HashMap::new();
    let _ = workspace.analyze(&open, hopcheck::config::Config::default_topology());
    // The edited file: halfway through the analysed files that await something.
    let awaiting: Vec<PathBuf> = hopcheck::discover::discover(&root)
        .into_iter()
        .filter_map(|f| match f {
            hopcheck::discover::Found::File { path, .. } => Some(path),
            hopcheck::discover::Found::Error { .. } => None,
        })
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(".await")))
        .collect();
    let Some(edited_path) = awaiting.get(awaiting.len() / 2) else {
        println!("no file awaits anything: nothing to edit");
        return None;
    };
    let edited_text = std::fs::read_to_string(edited_path).unwrap_or_default();
    println!(
        "edited file: {} ({} lines)",
        edited_path
            .strip_prefix(&root)
            .unwrap_or(edited_path)
            .display(),
        edited_text.lines().count()
    );
    let edited_path = edited_path
        .canonicalize()
        .unwrap_or_else(|_| edited_path.clone());
    let mut version = 0u64;
    let mut previous = None;
    let incremental = best_of(rounds, || {
        version += 1;
        let text = format!("{edited_text}\n{}", " ".repeat(version as usize));
        open.insert(edited_path.clone(), (text, version));
        // As the server does: the previous analysis goes before the next one runs.
        previous = None;
        previous = Some(workspace.analyze(&open, hopcheck::config::Config::default_topology()));
    });
    drop(previous);
    Some(incremental)
}

/// The fastest of a few runs (after one to warm the caches).
/// The fastest of three runs of a command made by `command` (under `/usr/bin/time -f %M`), and the
/// largest peak memory they reported, in KiB.
fn timed(command: impl Fn() -> Command) -> (Duration, u64) {
    let mut peak = 0;
    let wall = best(|| {
        if let Ok(out) = command().output() {
            let err = String::from_utf8_lossy(&out.stderr);
            if let Some(kb) = err
                .lines()
                .last()
                .and_then(|l| l.trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
    });
    (wall, peak)
}

fn best(f: impl FnMut()) -> Duration {
    best_of(3, f)
}

/// The fastest of `rounds` runs (after one to warm the caches).
fn best_of(rounds: usize, mut f: impl FnMut()) -> Duration {
    f();
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn rust_files(root: &Path) -> Vec<(PathBuf, String)> {
    let rust = |p: &Path| p.extension().is_some_and(|x| x == "rs");
    files_under(root, &rust)
        .into_iter()
        .filter_map(|path| Some((path.clone(), std::fs::read_to_string(&path).ok()?)))
        .collect()
}

/// The files under `root` that `keep` takes, outside `target` and `.git` folders, sorted.
fn files_under(root: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && e.file_name() != "target" && e.file_name() != ".git" {
                stack.push(path);
            } else if kind.is_file() && keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A copy of `corpus` in a new git repository of two commits, the second adding a comment to one file;
/// `None` without git.
fn two_commits(corpus: &Path) -> Option<tempfile::TempDir> {
    let repo = tempfile::tempdir().ok()?;
    let files = rust_files(corpus);
    let kept = |p: &Path| {
        p.extension().is_some_and(|x| x == "rs")
            || p.file_name()
                .is_some_and(|n| n == "Cargo.toml" || n == "Cargo.lock" || n == "hopcheck.toml")
    };
    for from in files_under(corpus, &kept) {
        let to = repo.path().join(from.strip_prefix(corpus).ok()?);
        std::fs::create_dir_all(to.parent()?).ok()?;
        std::fs::copy(&from, to).ok()?;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-qm", "base"])?;
    let (edited, text) = files.get(files.len() / 2)?;
    let edited = repo.path().join(edited.strip_prefix(corpus).ok()?);
    std::fs::write(&edited, format!("{text}\n// edited\n")).ok()?;
    git(&["commit", "-qam", "head"])?;
    Some(repo)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn default_corpus() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/hopcheck-bench/corpus")
}
