//! A progress line on stderr for runs that take more than a second: `parsing 812/2137 files`, redrawn in
//! place and cleared at the end. Only on a terminal, never in CI or with `--quiet` (the CLI decides, with
//! [`wanted`]); library callers get none.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Nothing is shown for runs shorter than this.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the line is redrawn.
const EVERY: Duration = Duration::from_millis(100);

/// Whether a run should show progress: stderr is a terminal, no CI runner is named, not `--quiet`.
pub fn wanted(quiet: bool) -> bool {
    use std::io::IsTerminal;
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A handle the pipeline ticks; drawing happens on a thread of its own.
pub struct Progress {
    shared: Option<Arc<Shared>>,
    drawer: Option<JoinHandle<()>>,
}

struct Shared {
    done: AtomicUsize,
    total: AtomicUsize,
    stage: Mutex<&'static str>,
    /// Set when the run ends; the condition wakes the drawer at once.
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Progress {
    /// A handle that shows nothing.
    pub fn off() -> Progress {
        Progress {
            shared: None,
            drawer: None,
        }
    }

    /// Shows progress on stderr after [`DELAY`], or after `HOPCHECK_PROGRESS_AFTER_MS` milliseconds.
    pub fn stderr() -> Progress {
        let delay = std::env::var("HOPCHECK_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        Progress::to(Box::new(std::io::stderr()), delay)
    }

    /// Shows progress on `out` once `delay` has passed.
    pub fn to(mut out: Box<dyn Write + Send>, delay: Duration) -> Progress {
        let shared = Arc::new(Shared {
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            stage: Mutex::new("reading"),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let s = Arc::clone(&shared);
        let drawer = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                let mut wait = delay;
                let mut drawn = false;
                loop {
                    let stopped = s.stopped.lock().unwrap_or_else(|e| e.into_inner());
                    let (stopped, _) = s
                        .wake
                        .wait_timeout_while(stopped, wait, |stopped| !*stopped)
                        .unwrap_or_else(|e| e.into_inner());
                    if *stopped {
                        break;
                    }
                    drop(stopped);
                    let stage = *s.stage.lock().unwrap_or_else(|e| e.into_inner());
                    let (done, total) = (
                        s.done.load(Ordering::Relaxed),
                        s.total.load(Ordering::Relaxed),
                    );
                    let line = if total > 0 {
                        format!("{stage} {done}/{total} files")
                    } else {
                        format!("{stage}…")
                    };
                    // A terminal that cannot be written to is not worth failing the run for.
                    let _ = write!(out, "\r\x1b[2K{line}").and_then(|()| out.flush());
                    drawn = true;
                    wait = EVERY;
                }
                if drawn {
                    let _ = write!(out, "\r\x1b[2K").and_then(|()| out.flush());
                }
            })
            .ok();
        Progress {
            shared: drawer.as_ref().map(|_| shared),
            drawer,
        }
    }

    /// A new stage over `total` files (0: no count).
    pub fn stage(&self, stage: &'static str, total: usize) {
        if let Some(s) = &self.shared {
            *s.stage.lock().unwrap_or_else(|e| e.into_inner()) = stage;
            s.done.store(0, Ordering::Relaxed);
            s.total.store(total, Ordering::Relaxed);
        }
    }

    /// One more file done.
    pub fn tick(&self) {
        if let Some(s) = &self.shared {
            s.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Progress {
    /// Clears the line (if it was drawn) before anything else is printed.
    fn drop(&mut self) {
        if let Some(s) = &self.shared {
            *s.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
            s.wake.notify_all();
        }
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

/// With `HOPCHECK_TIMINGS` set, prints on stderr how long the run has taken when `stage` ended (for
/// finding where the time goes; the benchmark is what measures).
pub fn lap(stage: &str) {
    if let Some(start) = laps_start() {
        // The peak first: a lap's line ends with its time, as scripts read it.
        eprintln!(
            "{stage:>10}: {:>12} {:>8.1} ms",
            peak_memory().map_or(String::new(), |m| format!("peak {m}")),
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
}

/// The most memory the process has held so far, as the kernel counts it (Linux's `VmHWM`), for [`lap`].
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{} MiB", kib / 1024))
}

/// When the run started, for [`lap`]: the first call.
pub fn laps_start() -> Option<std::time::Instant> {
    static START: std::sync::OnceLock<Option<std::time::Instant>> = std::sync::OnceLock::new();
    *START.get_or_init(|| std::env::var_os("HOPCHECK_TIMINGS").map(|_| std::time::Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test can read after the drawer has finished.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_long_run_shows_its_count_and_clears_the_line() {
        let out = Shared::default();
        let progress = Progress::to(Box::new(out.clone()), Duration::ZERO);
        progress.stage("parsing", 10);
        for _ in 0..3 {
            progress.tick();
        }
        std::thread::sleep(EVERY * 3);
        drop(progress);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("parsing 3/10 files"), "{text:?}");
        assert!(text.ends_with("\r\x1b[2K"), "the line is cleared: {text:?}");
    }

    #[test]
    fn a_short_run_shows_nothing() {
        let out = Shared::default();
        let progress = Progress::to(Box::new(out.clone()), Duration::from_secs(5));
        progress.stage("parsing", 10);
        progress.tick();
        drop(progress);
        assert!(out.0.lock().unwrap().is_empty());
    }
}
