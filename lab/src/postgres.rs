//! A throwaway PostgreSQL server: `initdb` into a temporary folder, `pg_ctl start` on a free loopback
//! port, and on drop (also after an error or a panic) `pg_ctl stop` and the folder removed.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::Error;

/// The running server's folder, for the Ctrl-C handler to clean up.
static RUNNING: Mutex<Option<(PathBuf, Option<String>)>> = Mutex::new(None);

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// Debian's `postgres` account when run as root (initdb refuses root).
    run_as: Option<String>,
    pub port: u16,
}

impl Cluster {
    pub fn start() -> Result<Cluster, Error> {
        let bin = bin_dir()?;
        let run_as = root().then(|| "postgres".to_string());
        let dir = std::env::temp_dir().join(format!("hopcheck-lab-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(user) = &run_as {
            let (uid, gid) = account(user)?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let port = free_port()?;
        let mut cluster = Cluster {
            dir,
            bin,
            run_as,
            port,
        };
        *RUNNING.lock().unwrap() = Some((cluster.dir.clone(), cluster.run_as.clone()));
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log");
        if let Err(e) = cluster.run(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-l",
                path(&log),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        ) {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            cluster.port = 0;
            return Err(format!("{e}\n{tail}").into());
        }
        Ok(cluster)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Creates a database and runs a SQL file in it.
    pub fn create(&self, db: &str, schema: &Path) -> Result<(), Error> {
        self.psql("postgres", &["-c", &format!("CREATE DATABASE \"{db}\"")])?;
        self.psql(db, &["-f", path(schema)])
    }

    fn psql(&self, db: &str, args: &[&str]) -> Result<(), Error> {
        let port = self.port.to_string();
        let mut all = vec![
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            db,
        ];
        all.extend_from_slice(args);
        let out = Command::new("psql")
            .args(&all)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("psql: {e} (install PostgreSQL's client)"))?;
        if !out.status.success() {
            return Err(format!(
                "psql {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(())
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), Error> {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = self.dir.join("data");
            let _ = self.run(
                "pg_ctl",
                &["-D", path(&data), "-m", "immediate", "-w", "stop"],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        *RUNNING.lock().unwrap() = None;
    }
}

/// After Ctrl-C: stops the server, if one runs, and removes its folder.
pub fn stop_running() {
    let Some((dir, run_as)) = RUNNING.lock().ok().and_then(|mut r| r.take()) else {
        return;
    };
    if let Ok(bin) = bin_dir() {
        let cluster = Cluster {
            dir,
            bin,
            run_as,
            port: 1,
        };
        drop(cluster);
    }
}

/// The folder of `initdb` and `pg_ctl`: on the PATH, or Debian's /usr/lib/postgresql/<version>/bin.
fn bin_dir() -> Result<PathBuf, Error> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|b| b.join("initdb").is_file())
        .ok_or_else(|| {
            "no PostgreSQL server found (initdb, pg_ctl): install Debian's postgresql package"
                .into()
        })
}

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn account(user: &str) -> Result<(u32, u32), Error> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user) && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .ok_or_else(|| format!("run as root, the server needs the `{user}` account (Debian's postgresql package makes it)").into())
}

pub fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}
