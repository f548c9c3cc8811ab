//! The promises of the README's Security section, each checked on the running binary under `strace`
//! (installed by `.ci/run`): on a hostile tree, `check` starts no program, opens no socket, reads nothing
//! outside the repository it analyses but the system's own libraries and the kernel's facts about the
//! process, and writes nothing; `baseline` and `fix` write only what they were asked to, through a
//! temporary file next to it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a traced run did.
#[derive(Debug, Default)]
struct Trace {
    /// Programs started, after hopcheck itself.
    programs: Vec<String>,
    /// `socket` and `connect` calls.
    network: Vec<String>,
    /// Paths opened for reading, absolute.
    reads: Vec<PathBuf>,
    /// Paths opened for writing, created, renamed to, removed or made, absolute.
    writes: Vec<PathBuf>,
}

/// Runs the hopcheck binary with `args` in `cwd` under `strace -f`.
/// Where the traced runs keep their facts cache: outside every analysed folder, and the only place
/// besides the files a command is asked to write where hopcheck writes.
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("hopcheck-security-cache")
}

fn in_cache(p: &Path) -> bool {
    p.starts_with(cache_dir())
}

fn traced(cwd: &Path, args: &[&str]) -> (std::process::Output, Trace) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("strace")
        .args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(log.path())
        .args([
            "-e",
            "trace=execve,socket,connect,open,openat,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,truncate",
        ])
        .arg(env!("CARGO_BIN_EXE_hopcheck"))
        .args(args)
        .current_dir(cwd)
        .env("HOPCHECK_CACHE_DIR", cache_dir())
        .env_remove("CI")
        // The test harness points the loader at its build folders; hopcheck needs none of them.
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("strace runs (install it: `apt-get install strace`)");
    let text = std::fs::read_to_string(log.path()).unwrap();
    let mut trace = Trace::default();
    let mut first_exec = true;
    for line in text.lines() {
        // `1234 openat(AT_FDCWD, "path", O_RDONLY|O_CLOEXEC) = 3`, possibly split as `<unfinished ...>`.
        let Some(call) = line.split_once(' ').map(|(_, rest)| rest.trim_start()) else {
            continue;
        };
        let Some((name, args)) = call.split_once('(') else {
            continue;
        };
        let quoted: Vec<&str> = args.split('"').skip(1).step_by(2).collect();
        let path = |i: usize| quoted.get(i).map(|p| cwd.join(p));
        match name {
            "execve" => {
                if first_exec {
                    first_exec = false;
                } else {
                    trace.programs.push(call.to_string());
                }
            }
            "socket" | "connect" => trace.network.push(call.to_string()),
            // A path that does not exist was not read.
            "open" | "openat" if call.contains(" = -1 ENOENT") => {}
            "open" | "openat" | "creat" => {
                let writing = name == "creat"
                    || ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                        .iter()
                        .any(|f| args.contains(f));
                if let Some(p) = path(0) {
                    if writing {
                        trace.writes.push(p);
                    } else {
                        trace.reads.push(p);
                    }
                }
            }
            "rename" | "renameat" | "renameat2" => trace.writes.extend(path(1)),
            "unlink" | "unlinkat" | "mkdir" | "mkdirat" | "truncate" => {
                trace.writes.extend(path(0))
            }
            _ => {}
        }
    }
    (out, trace)
}

/// The system's libraries and the kernel's facts about the process (CPU count, memory maps).
fn system(path: &Path) -> bool {
    [
        "/etc/ld.so.",
        "/lib",
        "/usr/lib",
        "/proc/",
        "/sys/",
        "/dev/",
    ]
    .iter()
    .any(|p| path.to_string_lossy().starts_with(p))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository whose code tries to reach outside it: a build script and a proc-macro that would leave
/// a mark, path dependencies and `#[path]` modules out of the repository, symlinks out of it, and a
/// secret next to it.
fn hostile() -> (tempfile::TempDir, PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    let outside = top.path().join("outside");
    let mark = top.path().join("MARK");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    write(&outside, "Cargo.toml", "[package]\nname = \"outside\"\n");
    write(
        &outside,
        "src/lib.rs",
        "pub async fn leak(State(pool): State<PgPool>) { sqlx::query(\"SELECT secret\").fetch_one(&pool).await; }\n",
    );
    write(&outside, "secret.txt", "do not read\n");
    write(
        &repo,
        "Cargo.toml",
        "[package]\nname = \"app\"\nbuild = \"build.rs\"\n[dependencies]\noutside = { path = \"../outside\" }\netc = { path = \"/etc\" }\n[lib]\nproc-macro = true\n",
    );
    write(
        &repo,
        "build.rs",
        &format!(
            "fn main() {{ std::fs::write({:?}, \"built\").unwrap(); }}\n",
            mark.display()
        ),
    );
    write(
        &repo,
        "src/lib.rs",
        &format!(
            r#"
#[path = "../../outside/src/lib.rs"]
mod sneaky;
mod linked;

#[proc_macro]
pub fn mark(_: proc_macro::TokenStream) -> proc_macro::TokenStream {{
    std::fs::write({:?}, "expanded").unwrap();
    Default::default()
}}

pub async fn show(State(pool): State<PgPool>) -> String {{
    let a = sqlx::query("SELECT 1").fetch_one(&pool).await;
    let b = sqlx::query("SELECT 2").fetch_one(&pool).await;
    format!("{{a:?}}{{b:?}}")
}}

pub fn app() -> Router {{
    Router::new().route("/show", get(show))
}}
"#,
            mark.display()
        ),
    );
    std::os::unix::fs::symlink(outside.join("src/lib.rs"), repo.join("src/linked.rs")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.join("src/outside")).unwrap();
    (top, repo)
}

#[test]
fn check_runs_nothing_opens_no_socket_reads_only_the_repository_and_writes_only_its_cache() {
    if !common::have_program("strace") {
        return;
    }
    let (top, repo) = hostile();
    let (out, trace) = traced(&repo, &["check", "--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("a report: {}", common::stderr(&out)));
    // The analysis ran: the route in the repository is priced.
    assert_eq!(json["routes"][0]["path"], "/show", "{}", json["routes"]);
    assert_eq!(json["routes"][0]["round_trips"], 2, "{}", json["routes"]);

    assert!(
        trace.programs.is_empty(),
        "no program started: {:?}",
        trace.programs
    );
    assert!(
        trace.network.is_empty(),
        "no socket opened: {:?}",
        trace.network
    );
    assert!(
        !top.path().join("MARK").exists(),
        "no build script or macro ran"
    );
    let repo = repo.canonicalize().unwrap();
    let outside: Vec<&PathBuf> = trace
        .reads
        .iter()
        .filter(|p| !system(p) && !in_cache(p))
        .filter(|p| {
            // Opened paths are resolved as the kernel would: through the symlinks.
            let real = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            !real.starts_with(&repo)
        })
        .collect();
    assert!(
        outside.is_empty(),
        "read outside the repository: {outside:?}"
    );
    let written: Vec<&PathBuf> = trace.writes.iter().filter(|w| !in_cache(w)).collect();
    assert!(written.is_empty(), "wrote outside its cache: {written:?}");
}

#[test]
fn baseline_writes_only_the_file_it_was_asked_for() {
    if !common::have_program("strace") {
        return;
    }
    let (_top, repo) = hostile();
    let target = repo.join("out/base.json");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let (out, trace) = traced(&repo, &["baseline", ".", "-o", "out/base.json"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(trace.programs.is_empty() && trace.network.is_empty());
    assert!(
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&target).unwrap())
            .is_ok()
    );
    for w in trace.writes.iter().filter(|w| !in_cache(w)) {
        assert_eq!(w.parent(), target.parent(), "written outside out/: {w:?}");
        let name = w.file_name().unwrap().to_string_lossy();
        assert!(
            name == "base.json" || name == ".base.json.hopcheck-tmp",
            "only the baseline and its temporary file: {w:?}"
        );
    }
    assert!(
        trace.writes.iter().any(|w| w == &target),
        "the baseline is renamed into place: {:?}",
        trace.writes
    );
    assert!(!repo.join("out/.base.json.hopcheck-tmp").exists());
}

#[test]
fn fix_writes_only_the_files_it_fixes() {
    if !common::have_program("strace") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let from = common::fixtures().join("fix");
    let stand_in = "sqlx-stand-in/src/lib.rs";
    for rel in [
        "Cargo.toml",
        "hopcheck.toml",
        "src/lib.rs",
        "sqlx-stand-in/Cargo.toml",
        stand_in,
    ] {
        write(
            dir.path(),
            rel,
            &std::fs::read_to_string(from.join(rel)).unwrap(),
        );
    }
    let before: Vec<(String, String)> = ["src/lib.rs", stand_in]
        .iter()
        .map(|r| {
            (
                r.to_string(),
                std::fs::read_to_string(dir.path().join(r)).unwrap(),
            )
        })
        .collect();
    let (out, trace) = traced(dir.path(), &["fix", "."]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(trace.programs.is_empty() && trace.network.is_empty());
    let changed: Vec<PathBuf> = before
        .iter()
        .filter(|(rel, text)| std::fs::read_to_string(dir.path().join(rel)).unwrap() != *text)
        .map(|(rel, _)| dir.path().join(rel))
        .collect();
    assert!(!changed.is_empty(), "the fixture has fixes to make");
    for w in trace.writes.iter().filter(|w| !in_cache(w)) {
        let name = w.file_name().unwrap().to_string_lossy().into_owned();
        let fixed = changed.iter().any(|c| {
            c == w
                || (w.parent() == c.parent()
                    && name
                        == format!(".{}.hopcheck-tmp", c.file_name().unwrap().to_string_lossy()))
        });
        assert!(fixed, "wrote {w:?}, which is not a fixed file: {changed:?}");
    }
}

#[test]
fn a_configuration_linked_out_of_the_repository_is_refused_unread() {
    if !common::have_program("strace") {
        return;
    }
    let (top, repo) = hostile();
    let secret = top.path().join("outside/secret.txt");
    std::os::unix::fs::symlink(&secret, repo.join("hopcheck.toml")).unwrap();
    let (out, trace) = traced(&repo, &["check", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("hopcheck.toml links to") && err.contains("--config"),
        "{err}"
    );
    assert!(!err.contains("do not read") && !common::stdout(&out).contains("do not read"));
    let secret = secret.canonicalize().unwrap();
    assert!(
        trace
            .reads
            .iter()
            .all(|p| p.canonicalize().ok().as_ref() != Some(&secret)),
        "the linked file is not opened: {:?}",
        trace.reads
    );
    // Named on the command line, it is the user's choice.
    let given = common::hopcheck(&[
        "check",
        "--config",
        &secret.display().to_string(),
        &repo.display().to_string(),
    ]);
    assert!(
        common::stderr(&given).contains("secret.txt"),
        "{}",
        common::stderr(&given)
    );
}

#[test]
fn an_absurdly_large_configuration_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/main.rs", "fn main() {}\n");
    let huge = format!("# {}\n", "x".repeat(2 << 20));
    write(dir.path(), "hopcheck.toml", &huge);
    let out = common::hopcheck(&["check", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("a configuration is at most 1024 KiB"), "{err}");
    assert!(
        err.len() < 2000,
        "the file is not echoed: {} bytes",
        err.len()
    );
}

#[test]
fn a_file_name_cannot_inject_ci_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/a\n::error file=x::pwned,b.rs",
        "async fn h(State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT 1\").fetch_one(&pool).await;\n    sqlx::query(\"SELECT 2\").fetch_one(&pool).await;\n}\nfn app() -> Router { Router::new().route(\"/x\", get(h)) }\n",
    );
    let out = common::hopcheck(&[
        "check",
        "--format",
        "github",
        "-q",
        &dir.path().display().to_string(),
    ]);
    let text = common::stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // Over budget (an error) and the sequential run (a warning), then the summary: each annotation
    // names the file escaped, so none of its text can start a command of its own.
    assert_eq!(lines.len(), 3, "two annotations and the summary: {text}");
    let file = "file=src/a%0A%3A%3Aerror file=x%3A%3Apwned%2Cb.rs,";
    assert!(lines[0].starts_with(&format!("::error {file}")), "{text}");
    assert!(lines[1].starts_with(&format!("::warning {file}")), "{text}");
    assert!(lines[2].starts_with("::notice title=hopcheck::"), "{text}");
    assert!(!text.contains("\n::error file=x"), "{text}");
}
