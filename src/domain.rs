//! The small types every stage speaks of: what a round trip is (its kind, read or write), where it goes
//! (a database's primary or replica), and how loud a finding is. They live here, with no dependency, so
//! that the facts, the catalog, the configuration, the model and the rules each use them without
//! depending on one another.

use serde::{Deserialize, Serialize};

/// Where a statement may be sent: a replica for reads, the primary for writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The statement only reads and may go to a read replica.
    Read,
    /// The statement writes, locks, or is not understood, so it must go to the primary.
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TripKind {
    Query,
    Begin,
    Commit,
    Rollback,
    Prepare,
    /// A statement that sets up the transaction just begun (`SET TRANSACTION ISOLATION LEVEL ..`, sent by
    /// sea-orm after the BEGIN): part of the transaction, none of its work.
    Setting,
    /// A pool's check of a connection before it lends it (`pool.acquire()`): a round trip that carries
    /// no statement, priced only when the pool checks (`Trip::checkout`, `assume.checkout-ping`).
    Check,
}

/// Where a round trip goes: a database and whether a replica serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub db: usize,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Primary,
    Replica,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    #[default]
    Warn,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" | "warning" => Some(Level::Warn),
            "error" | "deny" => Some(Level::Error),
            _ => None,
        }
    }

    /// The word reports use: `warning`, `error`.
    pub fn severity(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// The names of the lints, as the configuration may write them (`[lints]`, allow comments). The rules'
/// registry holds each lint; a test there checks that it names exactly these.
pub const LINT_NAMES: &[&str] = &[
    "sequential-queries",
    "query-in-loop",
    "chatty-transaction",
    "read-on-primary",
    "stale-read-after-write",
    "residency-violation",
    "over-budget",
    "unrouted-over-budget",
    "parse-error",
    "unused-allow",
    "unused-config",
];

/// `"250ms"`, `"1.5s"`, `"90"` → milliseconds.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    let not_one = || format!("`{text}` is not a duration: write it like \"250ms\" or \"1.5s\"");
    match num.trim().parse::<f64>() {
        // `NaN`, `inf` and negative numbers parse as floats, but are no durations.
        Ok(n) if n.is_finite() && n >= 0.0 && (n * scale).is_finite() => Ok(n * scale),
        _ => Err(not_one()),
    }
}

/// The HTTP methods a route may be declared with by hand (`[[routes]]`).
pub const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "GRPC", "GRAPHQL", "RPC",
];
