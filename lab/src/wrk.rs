//! Drives one route with `wrk` (one connection, one request at a time, so the latency is a single
//! request's and not a queue's) and reads its latency distribution.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub requests: u64,
    pub median_ms: f64,
    pub p90_ms: f64,
}

/// One request as wrk sends it; `body` is sent as JSON.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: Option<&'a str>,
    pub headers: &'a BTreeMap<String, String>,
    /// The status expected where it is no 2xx; else any 2xx.
    pub status: Option<u16>,
}

impl Request<'_> {
    pub fn answers_with(&self, status: u16) -> bool {
        match self.status {
            Some(s) => s == status,
            None => (200..300).contains(&status),
        }
    }
}

pub fn run(base: &str, req: &Request, seconds: u32, scratch: &Path) -> Result<Latency, Error> {
    let script = scratch.join("request.lua");
    std::fs::write(&script, lua(req))?;
    let out = Command::new("wrk")
        .args(["-t1", "-c1", "--latency", "--timeout", "60s"])
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("{base}{}", req.path))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("wrk: {e} (install Debian's wrk package)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr)).into());
    }
    parse(&text, req.status.is_some())
        .map_err(|e| format!("{} {}: {e}\n{text}", req.method, req.path).into())
}

/// The script that sets wrk's request.
fn lua(req: &Request) -> String {
    let mut lua = format!("wrk.method = {}\n", lua_string(req.method));
    if let Some(body) = req.body {
        lua.push_str(&format!(
            "wrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
            lua_string(body)
        ));
    }
    for (name, value) in req.headers {
        lua.push_str(&format!(
            "wrk.headers[{}] = {}\n",
            lua_string(name),
            lua_string(value)
        ));
    }
    lua
}

/// Reads wrk's output; answers other than 2xx or 3xx are errors unless `not_2xx` (the route's
/// expected status is none, and the warm-up checked it).
fn parse(text: &str, not_2xx: bool) -> Result<Latency, String> {
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses") && !not_2xx)
    {
        return Err(format!(
            "the service answered with errors ({})",
            line.trim()
        ));
    }
    if let Some(line) = text.lines().find(|l| l.contains("Socket errors")) {
        return Err(format!("connection errors ({})", line.trim()));
    }
    let percentile = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p))
            .and_then(|v| duration_ms(v.trim()))
            .ok_or_else(|| format!("no {p} latency in wrk's output"))
    };
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .ok_or("no request count in wrk's output")?;
    if requests == 0 {
        return Err("no request finished".into());
    }
    Ok(Latency {
        requests,
        median_ms: percentile("50%")?,
        p90_ms: percentile("90%")?,
    })
}

/// wrk's durations: `850.00us`, `181.20ms`, `1.21s`, `1.02m`.
fn duration_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_s_distribution() {
        let out = "Running 5s test @ http://127.0.0.1:3000/teams\n  1 threads and 1 connections\n  Latency Distribution\n     50%  181.20ms\n     75%  182.00ms\n     90%    1.21s\n     99%  850.00us\n  27 requests in 5.01s, 2.34KB read\nRequests/sec:      5.39\n";
        assert_eq!(
            parse(out, false).unwrap(),
            Latency {
                requests: 27,
                median_ms: 181.2,
                p90_ms: 1210.0
            }
        );
        let bad = out.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 27\nRequests/sec",
        );
        assert!(parse(&bad, false).unwrap_err().contains("errors"));
        assert_eq!(parse(&bad, true).unwrap().requests, 27);
    }

    #[test]
    fn sends_headers_and_the_body() {
        let headers = BTreeMap::from([("authorization".to_string(), "lab".to_string())]);
        let req = Request {
            method: "POST",
            path: "/posts/1/like",
            body: Some("{}"),
            headers: &headers,
            status: None,
        };
        assert_eq!(
            lua(&req),
            "wrk.method = \"POST\"\nwrk.body = \"{}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"authorization\"] = \"lab\"\n"
        );
        assert!(req.answers_with(204) && !req.answers_with(404));
        let fallback = Request {
            status: Some(404),
            ..req
        };
        assert!(fallback.answers_with(404) && !fallback.answers_with(200));
    }

    #[test]
    fn quotes_bodies_for_lua() {
        assert_eq!(lua_string(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
    }
}
