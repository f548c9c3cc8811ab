//! The latency lab: builds each service under `services/` from its fixture project, runs it against a
//! real PostgreSQL behind proxies that add the topology's round trips, drives every route with wrk, and
//! sets the measured latency beside hopcheck's estimate, before and after `hopcheck fix`.
//!
//! `lab/run` installs what it needs and runs it; `lab/run --help` lists the options.

mod grpc;
mod postgres;
mod proxy;
mod service;
mod wrk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use service::{ms, App, Spec};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

const HELP: &str = "\
usage: hopcheck-lab [options]

  --services a,b   the services to run (folders of lab/services; default: all)
  --rtt MS         the round trip to a far region (default 90)
  --near MS        the round trip inside a region (default 1)
  --seconds N      how long wrk drives each route, at least (default 10; longer for
                   a route too slow for 30 requests in that time)
  --quick          debug builds, 3 seconds or 10 requests a route
  --check          exit 1 unless every route's estimate is within 15% + 5 ms of its measured median
  --out FILE       also write the table (Markdown) to FILE
  --hopcheck PATH  the hopcheck binary (default: built from this repository)
";

struct Args {
    services: Vec<String>,
    far: Duration,
    near: Duration,
    seconds: u32,
    min_requests: u32,
    release: bool,
    check: bool,
    out: Option<PathBuf>,
    hopcheck: Option<PathBuf>,
}

fn args() -> Result<Args, Error> {
    let mut a = Args {
        services: vec![],
        far: Duration::from_millis(90),
        near: Duration::from_millis(1),
        seconds: 10,
        min_requests: 30,
        release: true,
        check: false,
        out: None,
        hopcheck: None,
    };
    let mut it = std::env::args().skip(1);
    let millis = |v: Option<String>, flag: &str| -> Result<Duration, Error> {
        let v: f64 = v
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number of milliseconds"))?;
        if !(0.0..=10_000.0).contains(&v) {
            return Err(format!("{flag}: {v} ms is out of range").into());
        }
        Ok(Duration::from_secs_f64(v / 1000.0))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--services" => {
                a.services = it
                    .next()
                    .ok_or("--services needs names")?
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--rtt" => a.far = millis(it.next(), "--rtt")?,
            "--near" => a.near = millis(it.next(), "--near")?,
            "--seconds" => {
                a.seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s| *s > 0)
                    .ok_or("--seconds needs a number")?
            }
            "--quick" => {
                a.release = false;
                a.seconds = 3;
                a.min_requests = 10;
            }
            "--check" => a.check = true,
            "--out" => a.out = Some(it.next().ok_or("--out needs a file")?.into()),
            "--hopcheck" => a.hopcheck = Some(it.next().ok_or("--hopcheck needs a path")?.into()),
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option `{other}`\n{HELP}").into()),
        }
    }
    Ok(a)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Error> {
    let args = args()?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository")?
        .to_path_buf();
    let services_dir = repo.join("lab/services");
    let names = if args.services.is_empty() {
        let mut all: Vec<String> = std::fs::read_dir(&services_dir)?
            .flatten()
            .filter(|e| e.path().join("lab.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        all.sort();
        all
    } else {
        args.services.clone()
    };
    let hopcheck = match &args.hopcheck {
        Some(p) => p.clone(),
        None => build_hopcheck(&repo)?,
    };

    let scratch = std::env::temp_dir().join(format!("hopcheck-lab-{}", std::process::id()));
    let copies = scratch.clone();
    ctrlc::set_handler(move || {
        eprintln!(
            "\ninterrupted: stopping PostgreSQL, removing {}",
            copies.display()
        );
        postgres::stop_running();
        let _ = std::fs::remove_dir_all(&copies);
        std::process::exit(130);
    })?;
    let _scratch = Cleanup(scratch.clone());
    let target = repo.join("lab/target/services");
    eprintln!("== starting PostgreSQL");
    let cluster = postgres::Cluster::start()?;
    let mut rows = vec![];
    let mut wall = vec![];
    for name in &names {
        let started = Instant::now();
        let spec =
            Spec::load(&services_dir.join(name)).map_err(|e| format!("service `{name}`: {e}"))?;
        let dir = scratch.join(name);
        rows.extend(run_service(
            &args, &repo, &hopcheck, &target, &cluster, name, &spec, &dir,
        )?);
        let took = started.elapsed();
        eprintln!("== {name}: {:.0} s in all", took.as_secs_f64());
        wall.push((name.as_str(), took));
    }
    drop(cluster);

    let table = table(&rows, &wall, &args);
    println!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table)?;
    }
    let off: Vec<&Row> = rows.iter().filter(|r| !r.agrees()).collect();
    if args.check && !off.is_empty() {
        for r in off {
            eprintln!("outside 15% + 5 ms: {} {}", r.service, r.route);
        }
        std::process::exit(1);
    }
    Ok(())
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn build_hopcheck(repo: &Path) -> Result<PathBuf, Error> {
    eprintln!("== building hopcheck");
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--locked", "--manifest-path"])
        .arg(repo.join("Cargo.toml"))
        .status()?;
    if !status.success() {
        return Err("cargo build of hopcheck failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target"));
    Ok(target.join("debug/hopcheck"))
}

/// One route's estimate and measurement, as the fixture is and after `hopcheck fix`.
struct Row {
    service: String,
    route: String,
    before: Side,
    after: Side,
}

struct Side {
    trips: u64,
    estimate_ms: f64,
    measured: Result<wrk::Latency, String>,
}

impl Side {
    fn agrees(&self) -> bool {
        match &self.measured {
            Ok(m) => (self.estimate_ms - m.median_ms).abs() <= 0.15 * m.median_ms + 5.0,
            Err(_) => false,
        }
    }
}

impl Row {
    fn agrees(&self) -> bool {
        self.before.agrees() && self.after.agrees()
    }
}

#[allow(clippy::too_many_arguments)]
fn run_service(
    args: &Args,
    repo: &Path,
    hopcheck: &Path,
    target: &Path,
    cluster: &postgres::Cluster,
    name: &str,
    spec: &Spec,
    dir: &Path,
) -> Result<Vec<Row>, Error> {
    eprintln!(
        "== {name}: the fixture as it is ({})",
        if args.release { "release" } else { "debug" }
    );
    // One folder, built twice: as it is, then after `hopcheck fix` (in place, so that cargo rebuilds only
    // the changed crate).
    let project = dir.join("project");
    service::copy_tree(
        &repo.join("fixtures/projects").join(&spec.project),
        &project,
    )?;
    let topology = service::set_topology(&project, spec, args.far, args.near)?;
    let est_before = estimates(hopcheck, &project, &topology.app)?;
    let bin_before = dir.join("app-before");
    service::build(&project, target, args.release, &bin_before)?;

    eprintln!("== {name}: after `hopcheck fix`");
    let fixed = Command::new(hopcheck).arg("fix").arg(&project).output()?;
    eprint!("{}", String::from_utf8_lossy(&fixed.stdout));
    if !fixed.status.success() {
        return Err(format!(
            "hopcheck fix failed: {}",
            String::from_utf8_lossy(&fixed.stderr)
        )
        .into());
    }
    let est_after = estimates(hopcheck, &project, &topology.app)?;
    let bin_after = dir.join("app-after");
    service::build(&project, target, args.release, &bin_after)?;

    let db = format!("lab_{}", name.replace('-', "_"));
    cluster.create(&db, &spec.schema)?;
    let mut env = BTreeMap::new();
    let mut proxies = vec![];
    for (var, endpoint) in &spec.endpoints {
        let rtt = topology.rtt[endpoint];
        let proxy = proxy::start(cluster.addr(), rtt)?;
        env.insert(
            var.clone(),
            format!("postgres://postgres@{}/{db}?sslmode=disable", proxy.addr),
        );
        eprintln!("   {var} -> {endpoint}: {} ms round trip", ms(rtt));
        proxies.push(proxy);
    }

    let mut measured = [BTreeMap::new(), BTreeMap::new()];
    for (i, bin) in [&bin_before, &bin_after].into_iter().enumerate() {
        let app = App::start(
            bin,
            &env,
            spec.grpc.as_deref(),
            &dir.join(format!("app-{i}.log")),
        )?;
        let estimates = if i == 0 { &est_before } else { &est_after };
        for req in &spec.requests {
            let mut m = measure(args, &app, req, dir).map_err(|e| e.to_string());
            // A run the machine disturbed (another process, a page-cache miss) is measured once more:
            // a real disagreement with the estimate persists, a hiccup does not.
            let estimate = estimates.get(&req.route).map(|(_, ms)| *ms);
            if let (Ok(first), Some(estimate)) = (&m, estimate) {
                if (estimate - first.median_ms).abs() > 0.15 * first.median_ms + 5.0 {
                    eprintln!(
                        "   {}: measured again (p50 {:.1} ms the first time)",
                        req.route, first.median_ms
                    );
                    m = measure(args, &app, req, dir).map_err(|e| e.to_string());
                }
            }
            eprintln!(
                "   {} {}: {}",
                if i == 0 { "before" } else { "after " },
                req.route,
                match &m {
                    Ok(m) => format!(
                        "p50 {:.1} ms, p90 {:.1} ms over {} requests",
                        m.median_ms, m.p90_ms, m.requests
                    ),
                    Err(e) => e.clone(),
                }
            );
            measured[i].insert(req.route.clone(), m);
        }
    }

    let mut rows = vec![];
    for (route, (trips, estimate_ms)) in &est_before {
        let side = |i: usize, trips: u64, estimate_ms: f64| Side {
            trips,
            estimate_ms,
            measured: measured[i]
                .get(route)
                .cloned()
                .unwrap_or_else(|| Err("no request in lab.toml".into())),
        };
        let (after_trips, after_ms) = est_after
            .get(route)
            .copied()
            .unwrap_or((*trips, *estimate_ms));
        rows.push(Row {
            service: name.to_string(),
            route: route.clone(),
            before: side(0, *trips, *estimate_ms),
            after: side(1, after_trips, after_ms),
        });
    }
    for req in &spec.requests {
        if !est_before.contains_key(&req.route) {
            return Err(format!(
                "lab.toml: hopcheck finds no route `{}` in {name}",
                req.route
            )
            .into());
        }
    }
    Ok(rows)
}

/// Warms one route up, then drives it: with wrk, or for a gRPC route with the lab's own client.
fn measure(
    args: &Args,
    app: &App,
    req: &service::RequestSpec,
    dir: &Path,
) -> Result<wrk::Latency, Error> {
    // Warm up, one whole request at a time: connections opened, statements prepared, and a connection
    // that the end of the last run cut replaced. Then at least `min_requests` requests, however slow
    // the route.
    let seconds = |warm: Duration| {
        args.seconds
            .max((warm.as_secs_f64() * args.min_requests as f64).ceil() as u32)
    };
    if req.is_grpc() {
        let message = req.message()?;
        let call = grpc::Call {
            addr: app
                .grpc
                .ok_or("a GRPC route needs `grpc` in lab.toml: the variable of the gRPC address")?,
            path: &req.path,
            message: &message,
        };
        let warm = grpc::warm_up(&call, 3)?;
        return grpc::run(&call, seconds(warm));
    }
    let r = wrk::Request {
        method: req.method(),
        path: &req.path,
        body: req.body.as_deref(),
        headers: &req.headers,
        status: req.status,
    };
    let warm = service::warm_up(app, &r, 3)?;
    wrk::run(&app.base, &r, seconds(warm), dir)
}

/// Route -> (round trips, estimated ms from the app's region), from `hopcheck check --format json`.
fn estimates(
    hopcheck: &Path,
    dir: &Path,
    app: &str,
) -> Result<BTreeMap<String, (u64, f64)>, Error> {
    let out = Command::new(hopcheck)
        .args(["check", "--format", "json", "--budget", "1000000ms"])
        .arg(dir)
        .output()?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "hopcheck check: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut routes = BTreeMap::new();
    for r in json["routes"]
        .as_array()
        .ok_or("hopcheck check: no routes")?
    {
        let name = format!(
            "{} {}",
            r["method"].as_str().unwrap_or("?"),
            r["path"].as_str().unwrap_or("?")
        );
        let cost = r["cost"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["deployment"] == app))
            .and_then(|c| c["estimated_ms"].as_f64())
            .ok_or_else(|| format!("hopcheck check: no estimate for {name} from {app}"))?;
        routes.insert(name, (r["round_trips"].as_u64().unwrap_or(0), cost));
    }
    Ok(routes)
}

fn table(rows: &[Row], wall: &[(&str, Duration)], args: &Args) -> String {
    let mut out = format!(
        "Far round trip {} ms, near {} ms; wrk (gRPC: the lab's own client), one connection, {} s a route.\n\n",
        ms(args.far),
        ms(args.near),
        args.seconds
    );
    out.push_str("| service | route | trips | hopcheck | measured p50 / p90 | | after `hopcheck fix`: trips | hopcheck | measured p50 / p90 | |\n");
    out.push_str("|---|---|--:|--:|--:|---|--:|--:|--:|---|\n");
    for r in rows {
        let side = |s: &Side| match &s.measured {
            Ok(m) => format!(
                "{} | {:.0} ms | {:.0} / {:.0} ms | {}",
                s.trips,
                s.estimate_ms,
                m.median_ms,
                m.p90_ms,
                if s.agrees() { "✓" } else { "✗" }
            ),
            Err(e) => format!("{} | {:.0} ms | {e} | ✗", s.trips, s.estimate_ms),
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            r.service,
            r.route,
            side(&r.before),
            side(&r.after)
        ));
    }
    let agree = rows.iter().filter(|r| r.agrees()).count();
    out.push_str(&format!(
        "\n{agree} of {} routes within 15% + 5 ms of the measured median, before and after.\n",
        rows.len()
    ));
    let wall: Vec<String> = wall
        .iter()
        .map(|(name, took)| format!("{name} {:.0} s", took.as_secs_f64()))
        .collect();
    out.push_str(&format!(
        "Wall time, builds included: {}.\n",
        wall.join(", ")
    ));
    out
}
