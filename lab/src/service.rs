//! One service of the lab: its description (`services/<name>/lab.toml`), its two variants (the fixture
//! project as it is, and after `hopcheck fix`), their topology for the lab, their builds and their runs.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::Error;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The folder under fixtures/projects/.
    pub project: String,
    /// SQL run in a new database before the service starts: tables and rows its requests need.
    pub schema: PathBuf,
    /// Environment variable -> the endpoint it reaches: `"<db>"` (the primary) or `"<db>.replica"`.
    pub endpoints: BTreeMap<String, String>,
    /// The environment variable the service reads its gRPC address from, if it serves gRPC besides
    /// HTTP (on `BIND_ADDR`): the lab gives it a free port, and sends the `GRPC` routes there.
    pub grpc: Option<String>,
    pub requests: Vec<RequestSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// As hopcheck names it: `"GET /teams/{id}"`.
    pub route: String,
    /// What is sent: `/teams/1`; for a `GRPC` route, the method's path: `/package.Service/Method`.
    pub path: String,
    /// The HTTP method sent, where the route's is none (`ANY`); else the route's.
    pub method: Option<String>,
    /// A JSON body, for POST and PUT.
    pub body: Option<String>,
    /// For a `GRPC` route: the request message, protobuf-encoded, in hex (`""`: an empty message).
    pub message: Option<String>,
    /// Headers sent with each request: `{ authorization = "token" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The status the route answers with, where it is no 2xx (a fallback's 404); else any 2xx.
    pub status: Option<u16>,
}

impl RequestSpec {
    pub fn method(&self) -> &str {
        match &self.method {
            Some(m) => m,
            None => self.route.split_whitespace().next().unwrap_or("GET"),
        }
    }

    pub fn is_grpc(&self) -> bool {
        self.route.starts_with("GRPC ")
    }

    /// The gRPC request message's bytes.
    pub fn message(&self) -> Result<Vec<u8>, Error> {
        let hex: Vec<u8> = self
            .message
            .as_deref()
            .unwrap_or("")
            .bytes()
            .filter(|b| *b != b' ')
            .collect();
        hex.chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .filter(|p| p.len() == 2)
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(|| format!("{}: `message` is no hex string", self.route).into())
            })
            .collect()
    }
}

impl Spec {
    pub fn load(dir: &Path) -> Result<Spec, Error> {
        let file = dir.join("lab.toml");
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut spec: Spec =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        spec.schema = dir.join(&spec.schema);
        Ok(spec)
    }
}

/// Where the app runs and how far each endpoint is, as the lab sets them in the copy's hopcheck.toml.
pub struct Topology {
    pub app: String,
    /// Endpoint (`main`, `main.replica`) -> its round trip from the app.
    pub rtt: BTreeMap<String, Duration>,
}

/// Rewrites `hopcheck.toml` in `dir` for the lab: one deployment (the first one away from the primary of
/// the first endpoint's database), every other region `far` from it, the same region `near`.
pub fn set_topology(
    dir: &Path,
    spec: &Spec,
    far: Duration,
    near: Duration,
) -> Result<Topology, Error> {
    let file = dir.join("hopcheck.toml");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut config: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let databases = config
        .get("databases")
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();
    let region = |v: Option<&toml::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let primary_of = |db: &str| region(databases.get(db).and_then(|d| d.get("primary")));
    let replicas_of = |db: &str| -> Vec<String> {
        databases
            .get(db)
            .and_then(|d| d.get("replicas"))
            .and_then(|r| r.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first_db = spec
        .endpoints
        .values()
        .next()
        .map(|e| e.trim_end_matches(".replica").to_string())
        .ok_or("lab.toml names no endpoint")?;
    let home = primary_of(&first_db)
        .ok_or_else(|| format!("hopcheck.toml has no primary for `{first_db}`"))?;
    let deployments: Vec<String> = config
        .get("deployments")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["us-east-1".into()]);
    let app = deployments
        .iter()
        .find(|d| **d != home)
        .or(deployments.first())
        .cloned()
        .ok_or("hopcheck.toml has no deployment")?;

    let mut regions: Vec<String> = databases.keys().filter_map(|db| primary_of(db)).collect();
    for db in databases.keys() {
        regions.extend(replicas_of(db));
    }
    let mut rtt_table = toml::Table::new();
    for r in regions.iter().filter(|r| **r != app) {
        rtt_table.insert(format!("{app} {r}"), toml::Value::Float(ms(far)));
    }
    config.insert(
        "deployments".into(),
        toml::Value::Array(vec![toml::Value::String(app.clone())]),
    );
    config.insert("rtt".into(), toml::Value::Table(rtt_table));
    let assume = config
        .entry("assume")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = assume.as_table_mut() {
        t.insert(
            "intra-region-rtt".into(),
            toml::Value::String(format!("{}ms", ms(near))),
        );
    }
    std::fs::write(&file, toml::to_string(&config).map_err(|e| e.to_string())?)?;

    let distance = |r: &str| if r == app { near } else { far };
    let mut rtt = BTreeMap::new();
    for endpoint in spec.endpoints.values() {
        let (db, replica) = match endpoint.strip_suffix(".replica") {
            Some(db) => (db, true),
            None => (endpoint.as_str(), false),
        };
        let primary = primary_of(db)
            .ok_or_else(|| format!("lab.toml: no database `{db}` in hopcheck.toml"))?;
        let d = if replica {
            replicas_of(db)
                .iter()
                .map(|r| distance(r))
                .min()
                .unwrap_or(distance(&primary))
        } else {
            distance(&primary)
        };
        rtt.insert(endpoint.clone(), d);
    }
    Ok(Topology { app, rtt })
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Copies a project folder, without build output and without the test suite's `//~ lint` marks: the
/// service as its authors would have it (a mark inside a statement keeps `hopcheck fix` off it).
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path())?;
            std::fs::write(to.join(&name), without_marks(&text))?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// The text without its ` //~ lint …` line ends.
fn without_marks(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.find(" //~") {
            Some(at) => {
                let end = &line[line.trim_end_matches(['\n', '\r']).len()..];
                format!("{}{end}", line[..at].trim_end())
            }
            None => line.to_string(),
        })
        .collect()
}

/// Builds the package in `dir` and copies its binary to `out`.
pub fn build(dir: &Path, target: &Path, release: bool, out: &Path) -> Result<(), Error> {
    let mut cmd = Command::new("cargo");
    cmd.arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"));
    if dir.join("Cargo.lock").is_file() {
        cmd.arg("--locked");
    }
    if release {
        cmd.arg("--release");
    }
    let status = cmd.env("CARGO_TARGET_DIR", target).status()?;
    if !status.success() {
        return Err(format!("cargo build failed in {}", dir.display()).into());
    }
    let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml"))?)
        .map_err(|e| e.to_string())?;
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or("Cargo.toml has no package name")?;
    let built = target
        .join(if release { "release" } else { "debug" })
        .join(name);
    std::fs::copy(&built, out).map_err(|e| format!("{}: {e}", built.display()))?;
    Ok(())
}

/// A running service, killed on drop.
pub struct App {
    child: Child,
    addr: SocketAddr,
    pub base: String,
    /// Where it serves gRPC, if it does.
    pub grpc: Option<SocketAddr>,
}

impl App {
    /// Starts `bin` on a free port (`BIND_ADDR`), and its gRPC server on another (the variable
    /// `grpc_var`) if it has one, and waits until both listen.
    pub fn start(
        bin: &Path,
        env: &BTreeMap<String, String>,
        grpc_var: Option<&str>,
        log: &Path,
    ) -> Result<App, Error> {
        let free = || -> Result<SocketAddr, Error> {
            Ok(SocketAddr::from((
                [127, 0, 0, 1],
                crate::postgres::free_port()?,
            )))
        };
        let addr = free()?;
        let grpc = grpc_var.map(|_| free()).transpose()?;
        let log_file = std::fs::File::create(log)?;
        let mut cmd = Command::new(bin);
        cmd.envs(env)
            .env("BIND_ADDR", addr.to_string())
            .env("RUST_LOG", "warn");
        if let (Some(var), Some(grpc)) = (grpc_var, grpc) {
            cmd.env(var, grpc.to_string());
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut app = App {
            child,
            addr,
            base: format!("http://{addr}"),
            grpc,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        for listen in std::iter::once(addr).chain(grpc) {
            loop {
                if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if let Some(status) = app.child.try_wait()? {
                    let text = std::fs::read_to_string(log).unwrap_or_default();
                    return Err(format!("{} exited ({status}):\n{text}", bin.display()).into());
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "{} did not listen on {listen} within a minute",
                        bin.display()
                    )
                    .into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(app)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `req` `times` times, one after another, each to its end; returns the slowest. Fails unless
/// each answer has the status the request expects.
pub fn warm_up(app: &App, req: &crate::wrk::Request, times: u32) -> Result<Duration, Error> {
    let mut slowest = Duration::ZERO;
    for _ in 0..times {
        let start = Instant::now();
        let mut s = TcpStream::connect(app.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.write_all(http_request(req, &app.addr.to_string()).as_bytes())?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)?;
        slowest = slowest.max(start.elapsed());
        let text = String::from_utf8_lossy(&answer);
        let status = text.split_whitespace().nth(1).unwrap_or("");
        if !req.answers_with(status.parse().unwrap_or(0)) {
            let first = text.lines().next().unwrap_or("no answer");
            let rest = text.split("\r\n\r\n").nth(1).unwrap_or("");
            return Err(format!("{} {} answered `{first}` {rest}", req.method, req.path).into());
        }
    }
    Ok(slowest)
}

/// One HTTP/1.1 request, the connection closed after it.
fn http_request(req: &crate::wrk::Request, host: &str) -> String {
    let body = req.body.unwrap_or("");
    let mut text = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        req.method,
        req.path,
        body.len()
    );
    for (name, value) in req.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

#[cfg(test)]
mod tests {

    #[test]
    fn marks_go_and_the_rest_stays() {
        let text = "let a = 1; //~ sequential-queries\r\n    .fetch_one(&db) //~ read-on-primary\nlet b = \"//~\";\n";
        assert_eq!(
            without_marks(text),
            "let a = 1;\r\n    .fetch_one(&db)\nlet b = \"//~\";\n"
        );
    }
    use super::*;

    #[test]
    fn a_request_spec_reads_its_method_headers_and_message() {
        let spec: Spec = toml::from_str(
            r#"
            project = "p"
            schema = "schema.sql"
            grpc = "GRPC_BIND_ADDR"
            [endpoints]
            DATABASE_URL = "main"
            [[requests]]
            route = "ANY /notes/{id}/raw"
            path = "/notes/1/raw"
            method = "GET"
            headers = { authorization = "lab" }
            [[requests]]
            route = "GRPC /Catalog/get_products"
            path = "/catalog.Catalog/GetProducts"
            message = "0a 02 01 02"
            [[requests]]
            route = "GET /teams"
            path = "/teams"
            "#,
        )
        .unwrap();
        let [raw, grpc, plain] = &spec.requests[..] else {
            panic!()
        };
        assert_eq!(raw.method(), "GET");
        assert_eq!(raw.headers["authorization"], "lab");
        assert!(grpc.is_grpc() && !plain.is_grpc());
        assert_eq!(grpc.message().unwrap(), [0x0a, 2, 1, 2]);
        assert_eq!(plain.message().unwrap(), Vec::<u8>::new());
        for bad in ["0a0", "zz", "é0"] {
            let bad = RequestSpec {
                message: Some(bad.into()),
                ..toml::from_str("route = 'GRPC /a'\npath = '/a'").unwrap()
            };
            assert!(bad.message().is_err());
        }
        assert_eq!(plain.method(), "GET");
        assert_eq!(spec.grpc.as_deref(), Some("GRPC_BIND_ADDR"));
    }

    #[test]
    fn an_http_request_carries_its_headers_and_body() {
        let headers = BTreeMap::from([("cookie".to_string(), "session=lab".to_string())]);
        let req = crate::wrk::Request {
            method: "POST",
            path: "/todos/done",
            body: Some("[1]"),
            headers: &headers,
            status: None,
        };
        let text = http_request(&req, "127.0.0.1:1");
        assert!(text.starts_with("POST /todos/done HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("\r\nContent-Length: 3\r\n"), "{text}");
        assert!(
            text.ends_with("\r\ncookie: session=lab\r\n\r\n[1]"),
            "{text}"
        );
    }
}
