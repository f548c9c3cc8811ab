//! The benchmark: the whole pipeline on a real corpus against the floor (reading the files, `rg` over them
//! where installed, a bare `syn::parse_file` of each), and a one-file re-analysis as the language server
//! does it. Run: `cargo bench --bench pipeline -- <folder>` (or `HOPCHECK_BENCH_CORPUS=<folder>`); without
//! a folder it uses the corpus `benches/corpus.sh` vendors from crates.io into ~/.cache/hopcheck-bench.
//! It prints a table; it asserts nothing.

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
    let bin = env!("CARGO_BIN_EXE_hopcheck");
    let run = |threads: Option<&str>| {
        let mut peak = 0;
        let wall = best(|| {
            let mut cmd = Command::new("/usr/bin/time");
            cmd.args(["-f", "%M", bin, "check", "--format", "json", "-q"])
                .arg(&corpus);
            if let Some(t) = threads {
                cmd.env("RAYON_NUM_THREADS", t);
            }
            if let Ok(out) = cmd.output() {
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
    };
    let (all, peak_all) = run(None);
    let (one, peak_one) = run(Some("1"));

    // The language server's step after an edit: one file parsed again, the stages after parsing for all.
    let config = hopcheck::config::Config::default_topology();
    let facts: Vec<_> = files
        .iter()
        .map(|(path, text)| {
            let rel = path
                .strip_prefix(&corpus)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            hopcheck::parse_source(&rel, text.clone(), &config.catalog)
        })
        .collect();
    let edited = facts.len() / 2;
    let incremental = best(|| {
        let mut all = facts.clone();
        let (path, text) = &files[edited];
        let rel = all[edited].path.clone();
        let _ = path;
        all[edited] = hopcheck::parse_source(&rel, format!("{text}\n"), &config.catalog);
        let _ = hopcheck::analyze_files(&corpus, all, config.clone());
    });

    let floor = rg.unwrap_or(read);
    let row = |name: &str, d: Duration, peak: Option<u64>| {
        let s = d.as_secs_f64();
        println!(
            "{name:<38} {:>9.1} ms {:>8.1} MB/s {:>7.1}× floor{}",
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
    row("hopcheck check, 1 core", one, Some(peak_one));
    row("hopcheck check, all cores", all, Some(peak_all));
    row(
        "one file edited: re-parse + model + rules",
        incremental,
        None,
    );
}

/// The fastest of a few runs (after one to warm the caches).
fn best(mut f: impl FnMut()) -> Duration {
    f();
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn rust_files(root: &Path) -> Vec<(PathBuf, String)> {
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
            } else if kind.is_file() && path.extension().is_some_and(|x| x == "rs") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((path, text));
                }
            }
        }
    }
    out.sort();
    out
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
