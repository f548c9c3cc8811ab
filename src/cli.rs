//! The command line: `check` (the default), `plan`, `baseline`, `fix`, `lsp`, `explain`, `lints`,
//! `regions`, `init`. It parses arguments, loads the configuration, calls [`crate::analyze`] and maps the
//! outcome to an exit status: 0 nothing fails the run, 1 a finding or regression does, 2 a usage,
//! configuration or I/O error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};

#[derive(Parser, Debug)]
#[command(
    name = "hopcheck",
    version,
    about = "Finds the sequential database round trips on every request path of a Rust web service and prices them against a region topology",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse a project (the default command).
    Check(CheckArgs),
    /// Price every route under today's topology, a CDN, read replicas and regional isolation, and
    /// recommend one.
    Plan(CheckArgs),
    /// Write hopcheck-baseline.json: today's findings and route costs, which `check --baseline` then
    /// accepts, so that only new or worse ones count.
    Baseline {
        /// A folder or a .rs file (default: the current folder).
        path: Option<PathBuf>,
        /// The configuration file (default: hopcheck.toml at PATH or above it).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where to write it (default: PATH/hopcheck-baseline.json).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Write a report file: with --html, one self-contained page with every route's round trips as a
    /// waterfall, beside the same route under the plan's scenarios.
    Report(ReportArgs),
    /// Run as a language server over stdio (for editors).
    Lsp,
    /// Show the documentation of a lint.
    Explain { lint: String },
    /// List the lints.
    Lints,
    /// List the known cloud regions (optionally those whose name or place contains FILTER).
    Regions { filter: Option<String> },
    /// Apply the safe fixes: independent sequential reads joined with `try_join!`, reads on the primary
    /// sent to the replica pool `[pools]` maps.
    Fix {
        /// A folder or a .rs file (default: the current folder).
        path: Option<PathBuf>,
        /// The configuration file (default: hopcheck.toml at PATH or above it).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Write nothing; list the fixes that would be made.
        #[arg(long, conflicts_with = "diff")]
        dry_run: bool,
        /// Write nothing; print the fixes as a unified diff.
        #[arg(long)]
        diff: bool,
    },
    /// Write a starter hopcheck.toml for the code in PATH (default: the current folder).
    Init {
        path: Option<PathBuf>,
        /// A region the app runs in (repeatable).
        #[arg(long, value_name = "REGION")]
        deploy: Vec<String>,
        /// Where database DB's primary runs, e.g. main@eu-central-1.
        #[arg(long, value_name = "DB@REGION")]
        primary: Vec<String>,
        /// A replica of database DB (repeatable), e.g. main@us-east-1.
        #[arg(long, value_name = "DB@REGION")]
        replica: Vec<String>,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct CheckArgs {
    /// A folder or a .rs file (default: the current folder).
    pub path: Option<PathBuf>,
    /// The configuration file (default: hopcheck.toml at PATH or above it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = crate::report::FORMATS.to_vec())]
    pub format: String,
    /// Colour in the human format: auto, always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Print nothing on stderr (notes about the configuration).
    #[arg(long, short)]
    pub quiet: bool,
    /// What if the app also ran in REGION (repeatable).
    #[arg(long, value_name = "REGION")]
    pub deploy: Vec<String>,
    /// What if database DB had a replica in REGION (repeatable), e.g. main@us-east-1.
    #[arg(long, value_name = "DB@REGION")]
    pub replica: Vec<String>,
    /// What if database DB's primary were in REGION (repeatable).
    #[arg(long, value_name = "DB@REGION")]
    pub primary: Vec<String>,
    /// Which unsuppressed findings fail the run (exit status 1).
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = ["error", "warning", "never"])]
    pub fail_on: String,
    /// The default latency budget of every route, over `[budget] default` (e.g. 300ms).
    #[arg(long, value_name = "DURATION")]
    pub budget: Option<String>,
    /// Accept the findings recorded in FILE (written by `hopcheck baseline`): only new ones count.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Compare with the code at git revision REF (e.g. origin/main): costs before and after, new findings.
    #[arg(long, value_name = "REF")]
    pub compare_to: Option<String>,
    /// With --compare-to, fail when a route got slower by more than this (e.g. 50ms or 20%).
    #[arg(long, value_name = "MS|PERCENT", requires = "compare_to")]
    pub fail_on_regression: Option<String>,
    /// With --format github, where to write the Markdown job summary (default: $GITHUB_STEP_SUMMARY if set).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// With --format cargo, also run `cargo check` or `cargo clippy` and pass its messages through.
    #[arg(long, value_name = "COMMAND", value_parser = ["check", "clippy"])]
    pub with_cargo: Option<String>,
    /// Also draw this route's round trips as a waterfall in the terminal, e.g. "GET /users/{id}" (a path
    /// alone matches every method).
    #[arg(long, value_name = "ROUTE")]
    pub route: Option<String>,
    /// Draw --route's waterfall from this deployment (default: the first that serves the route).
    #[arg(long, value_name = "REGION", requires = "route")]
    pub from: Option<String>,
    /// Exit 0 when PATH holds no Rust file or no request handler (by default that exits 2: a mistyped
    /// path must not pass a gate).
    #[arg(long)]
    pub allow_empty: bool,
    /// Also check the handlers whose route was not found, keyed by their name (`[check] unrouted`).
    #[arg(long)]
    pub check_unrouted: bool,
    /// A compact view for big services: the N costliest routes, then the N costliest findings, then how
    /// many more (human format; `--top 0` shows everything). The default on a terminal when there are more
    /// than ten findings: `--top 10`
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// List at most N findings, the costliest (human and markdown formats)
    #[arg(long, value_name = "N")]
    pub max_findings: Option<usize>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Where the facts of earlier runs are kept.
#[derive(Args, Debug, Default, Clone)]
pub struct CacheArgs {
    /// Keep each file's facts in DIR and use them again while the file is unchanged (default:
    /// $HOPCHECK_CACHE_DIR, else hopcheck in the user's cache folder).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Parse every file afresh and write no cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A folder or a .rs file (default: the current folder).
    pub path: Option<PathBuf>,
    /// Write the HTML page to FILE.
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
    /// The configuration file (default: hopcheck.toml at PATH or above it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print nothing on stderr (notes about the configuration).
    #[arg(long, short)]
    pub quiet: bool,
    /// What if the app also ran in REGION (repeatable).
    #[arg(long, value_name = "REGION")]
    pub deploy: Vec<String>,
    /// What if database DB had a replica in REGION (repeatable), e.g. main@us-east-1.
    #[arg(long, value_name = "DB@REGION")]
    pub replica: Vec<String>,
    /// What if database DB's primary were in REGION (repeatable).
    #[arg(long, value_name = "DB@REGION")]
    pub primary: Vec<String>,
    /// The default latency budget of every route, over `[budget] default` (e.g. 300ms).
    #[arg(long, value_name = "DURATION")]
    pub budget: Option<String>,
    /// Link each `file:line` to TEMPLATE, an http(s) address in which {path} is the file's path from
    /// the repository's root and {line} the line, e.g.
    /// "https://git.example.com/shop/-/blob/main/{path}#L{line}" (default: the commit on GitHub
    /// Actions or GitLab CI, else relative links).
    #[arg(long, value_name = "TEMPLATE")]
    pub source_url: Option<String>,
    /// Draw the waterfalls from this deployment (default: each route's first that serves it).
    #[arg(long, value_name = "REGION")]
    pub from: Option<String>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        None => check(cli.check),
        Some(Command::Check(args)) => check(args),
        Some(Command::Plan(args)) => plan(args),
        Some(Command::Report(args)) => report(args),
        Some(Command::Lsp) => crate::lsp::run(),
        Some(Command::Baseline {
            path,
            config,
            output,
            cache,
        }) => baseline(path, config, output, cache),
        Some(Command::Explain { lint }) => match crate::explain::explain(&lint) {
            Ok(doc) => {
                print!("{doc}");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Some(Command::Lints) => {
            print!("{}", crate::explain::list());
            0
        }
        Some(Command::Regions { filter }) => regions(filter.as_deref()),
        Some(Command::Fix {
            path,
            config,
            dry_run,
            diff,
        }) => fix(path, config, dry_run, diff),
        Some(Command::Init {
            path,
            deploy,
            primary,
            replica,
        }) => init(
            &path.unwrap_or_else(|| PathBuf::from(".")),
            &config::WhatIf {
                deploy,
                replicas: replica,
                primaries: primary,
            },
        ),
    }
}

/// The analysed path and its configuration (with the what-if flags applied), or the exit status of a
/// usage or configuration error already reported.
/// Runs the analysis, with a progress line on stderr for long runs on a terminal.
fn analyse(root: &Path, config: Config, quiet: bool) -> crate::Analysis {
    analyse_found(root, config, quiet, None)
}

/// [`analyse`] on the files a walk of `root` already found.
fn analyse_found(
    root: &Path,
    config: Config,
    quiet: bool,
    found: Option<Vec<crate::discover::Found>>,
) -> crate::Analysis {
    let progress = if crate::progress::wanted(quiet) {
        crate::progress::Progress::stderr()
    } else {
        crate::progress::Progress::off()
    };
    crate::analyze_found(root, config, progress, found)
}

fn setup(args: &CheckArgs) -> Result<(PathBuf, Config), i32> {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !root.exists() {
        eprintln!("error: {} does not exist", root.display());
        return Err(2);
    }
    let config_path = args.config.clone().or_else(|| config::find(&root));
    if let (None, Some(found)) = (&args.config, &config_path) {
        if let Some(real) = config::link_out_of_tree(found) {
            eprintln!(
                "error: {} links to {}, outside the repository, so it is not read; pass it with --config to use it",
                found.display(),
                real.display()
            );
            return Err(2);
        }
    }
    let mut config = match &config_path {
        Some(path) => match config::load(path) {
            Ok(c) => c,
            Err(errors) => {
                report_config_errors(&errors);
                return Err(2);
            }
        },
        None => Config::default_topology(),
    };
    let what = config::WhatIf {
        deploy: args.deploy.clone(),
        replicas: args.replica.clone(),
        primaries: args.primary.clone(),
    };
    if let Err(errors) = config.apply(&what) {
        for e in errors {
            eprintln!("error: {e}");
        }
        return Err(2);
    }
    config.check_unrouted |= args.check_unrouted;
    config.cache_file = match args.cache.no_cache {
        true => None,
        false => crate::cache::pack_for(args.cache.cache_dir.as_deref(), &root),
    };
    config.cache_named = args.cache.cache_dir.is_some()
        || std::env::var_os(crate::cache::DIR_VARIABLE).is_some_and(|d| !d.is_empty());
    if let Some(budget) = &args.budget {
        match config::parse_duration(budget) {
            Ok(ms) => config.default_budget_ms = ms,
            Err(e) => {
                eprintln!("error: --budget {budget}: {e}");
                return Err(2);
            }
        }
    }
    Ok((root, config))
}

/// Findings that fit a terminal's screen: with more, and no `--top` or `--max-findings`, the human format
/// on a terminal shows the compact view of the costliest ten.
const COMPACT: usize = 10;

/// What the reading formats show: `--top` and `--max-findings`.
fn shown(args: &CheckArgs) -> crate::report::Shown {
    crate::report::Shown {
        top: args.top,
        max_findings: args.max_findings,
    }
}

fn check(args: CheckArgs) -> i32 {
    crate::progress::laps_start();
    let (root, config) = match setup(&args) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let Some(format) = crate::report::format(&args.format, color, shown(&args)) else {
        eprintln!("error: unknown format `{}`", args.format);
        return 2;
    };
    if args.route.is_some() && args.format != "human" {
        eprintln!(
            "error: --route draws in the human format, not in `{}`",
            args.format
        );
        return 2;
    }
    let regression = match args
        .fail_on_regression
        .as_deref()
        .map(crate::gate::Threshold::parse)
    {
        Some(Err(e)) => {
            eprintln!("error: --fail-on-regression: {e}");
            return 2;
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    // The editor mode: cargo's own messages first, so that one check command shows both.
    let mut text = String::new();
    if let Some(which) = &args.with_cargo {
        match crate::report::cargo::cargo_messages(&root, which) {
            Ok(messages) => text.push_str(&messages),
            Err(e) => {
                eprintln!("error: cargo {which}: {e}");
                return 2;
            }
        }
    }
    // `--compare-to`: the base's files, listed by git (a missing revision fails before anything runs).
    let base = match args.compare_to.as_deref() {
        Some(base) => match crate::gate::base_revision(&root, base) {
            Ok(listed) => Some(listed),
            Err(e) => {
                eprintln!("error: --compare-to {base}: {e}");
                return 2;
            }
        },
        None => None,
    };
    // A run whose inputs are all as a kept run's prints that run's report again.
    let memo = memo_for(&args, &root, &config, color, base.as_ref());
    let found = memo.as_ref().map(|_| crate::discover::discover(&root));
    crate::progress::lap("discover");
    if let (Some(memo), Some(found)) = (&memo, &found) {
        let kept = memo.replay(found);
        crate::progress::lap("memo");
        if let Some(output) = kept {
            return emit(&args, &output);
        }
    }
    let before = match (&memo, &found) {
        (Some(memo), Some(found)) => memo.manifests_before(found),
        _ => Vec::new(),
    };
    // The base's analysis runs beside the head's.
    let base = match base {
        Some(listed) => match crate::gate::start_base(
            &root,
            listed,
            config.clone(),
            // The base's analysis is the same whatever names it and whatever the comparison then asks.
            run_key(
                &CheckArgs {
                    compare_to: None,
                    fail_on_regression: None,
                    ..args.clone()
                },
                &root,
                &config,
                color,
            ),
        ) {
            Ok(started) => Some(started),
            Err(e) => {
                eprintln!(
                    "error: --compare-to {}: {e}",
                    args.compare_to.as_deref().unwrap_or_default()
                );
                return 2;
            }
        },
        None => None,
    };
    // Never freed: the process exits once the report is out, and freeing a large service's model one
    // node at a time takes longer than the report does.
    let mut analysis = std::mem::ManuallyDrop::new(analyse_found(
        &root,
        config.clone(),
        args.quiet,
        found.clone(),
    ));
    analysis.fail_on = crate::gate::FailOn::parse(&args.fail_on).unwrap_or_default();
    if let Some(file) = &args.baseline {
        if let Err(e) = crate::gate::apply_baseline(&mut analysis, file) {
            eprintln!("error: {e}");
            return 2;
        }
    }
    if let Some(started) = base {
        if let Err(e) = crate::gate::compare(&mut analysis, started, regression) {
            eprintln!(
                "error: --compare-to {}: {e}",
                args.compare_to.as_deref().unwrap_or_default()
            );
            return 2;
        }
    }
    let output = match rendered(&args, &root, &analysis, format, color, text) {
        Ok(output) => output,
        Err(status) => return status,
    };
    let status = emit(&args, &output);
    if let (Some(memo), Some(found)) = (&memo, &found) {
        if analysis.cache_note.is_none() && status == output.status {
            memo.keep(found, &analysis.inputs, &before, &output);
        }
    }
    status
}

/// The kept report of runs with these options (and, with `--compare-to`, this base's files), for the
/// runs that may use one: not with `--no-cache` or `--with-cargo` (cargo's messages are not hopcheck's).
fn memo_for(
    args: &CheckArgs,
    root: &Path,
    config: &Config,
    color: bool,
    base: Option<&crate::gate::BaseRevision>,
) -> Option<crate::memo::Memo> {
    if args.with_cargo.is_some() {
        return None;
    }
    let pack = config.cache_file.as_ref()?;
    let mut key = run_key(args, root, config, color)?;
    if let Some(base) = base {
        key.push_str(&base.key());
    }
    let root_at = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    Some(crate::memo::Memo::new(pack, &root_at, &key))
}

/// Everything besides the analysed code that a run's output depends on: the options, the configuration's
/// text, the baseline's bytes, the CI variables links are made of, whether output goes to a terminal.
/// `None` when the baseline cannot be read (the run says so).
fn run_key(args: &CheckArgs, root: &Path, config: &Config, color: bool) -> Option<String> {
    let baseline = match &args.baseline {
        Some(file) => std::fs::read(file)
            .map(|b| crate::memo::fingerprint(&b))
            .ok()?,
        None => 0,
    };
    let summary = summary_file(args).is_some();
    let env: Vec<String> = crate::report::markdown::LINK_VARIABLES
        .iter()
        .map(|v| format!("{v}={}", std::env::var(v).unwrap_or_default()))
        .collect();
    let root_at = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    Some(format!(
        "{args:?}\n{}\n{color} {} {summary} {baseline}\n{env:?}\n{:?}\n{}",
        root_at.display(),
        std::io::stdout().is_terminal(),
        config.file,
        config.text,
    ))
}

/// The report of an analysis as it is printed, with the run's exit status; or the status of an error
/// already reported.
fn rendered(
    args: &CheckArgs,
    root: &Path,
    analysis: &crate::Analysis,
    format: Box<dyn crate::report::Format>,
    color: bool,
    mut text: String,
) -> Result<crate::memo::Output, i32> {
    let mut output = crate::memo::Output::default();
    if !args.quiet && args.format != "human" {
        for note in analysis.notes() {
            output.stderr.push_str(&format!("note: {note}\n"));
        }
    }
    if args.format == "github" && summary_file(args).is_some() {
        output.summary = Some(crate::report::github::summary(analysis));
    }
    // More findings than fit a screen, on a terminal: the compact view, unless one was asked for.
    let live = analysis
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none())
        .count();
    let compact = args.format == "human"
        && args.route.is_none()
        && args.top.is_none()
        && args.max_findings.is_none()
        && live > COMPACT
        && std::io::stdout().is_terminal();
    let format = match compact {
        true => crate::report::format(
            "human",
            color,
            crate::report::Shown {
                top: Some(COMPACT),
                max_findings: None,
            },
        )
        .unwrap_or(format),
        false => format,
    };
    text.push_str(&format.render(analysis));
    if let Some(wanted) = &args.route {
        if let Some(status) = unknown_deployment(analysis, args.from.as_deref()) {
            return Err(status);
        }
        let drawn = crate::report::human::waterfalls(analysis, wanted, args.from.as_deref());
        if drawn.is_empty() {
            let known: Vec<String> = analysis
                .routes
                .iter()
                .filter_map(|r| Some(format!("{} {}", r.method.as_deref()?, r.path.as_deref()?)))
                .collect();
            eprintln!(
                "error: --route: no route `{wanted}`; the routes are: {}",
                known.join(", ")
            );
            return Err(2);
        }
        text.push_str(&drawn);
    }
    output.stdout = text;
    output.status = match (nothing_to_check(analysis), args.allow_empty) {
        (Some(why), false) => {
            output.stderr.push_str(&format!(
                "error: nothing to check at {}: {why} (--allow-empty accepts this)\n",
                root.display()
            ));
            2
        }
        _ => analysis.exit_code(),
    };
    Ok(output)
}

/// Where `--format github` appends its job summary: `--summary`, else `$GITHUB_STEP_SUMMARY`.
fn summary_file(args: &CheckArgs) -> Option<PathBuf> {
    args.summary
        .clone()
        .or_else(|| std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from))
}

/// Prints a run's output (notes first, then the job summary, then the report) and returns its exit
/// status: 2 when the summary cannot be written.
fn emit(args: &CheckArgs, output: &crate::memo::Output) -> i32 {
    let (notes, errors): (Vec<&str>, Vec<&str>) = output
        .stderr
        .lines()
        .partition(|l| !l.starts_with("error: "));
    for line in notes {
        eprintln!("{line}");
    }
    if let (Some(md), Some(path)) = (&output.summary, summary_file(args)) {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(md.as_bytes()));
        if let Err(e) = written {
            eprintln!("error: cannot write the summary to {}: {e}", path.display());
            return 2;
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`hopcheck | head`) is not an error of the analysis.
    let _ = stdout
        .write_all(output.stdout.as_bytes())
        .and_then(|_| stdout.flush());
    for line in errors {
        eprintln!("{line}");
    }
    output.status
}

/// `--from REGION` that names no deployment: an error (exit 2) listing them.
fn unknown_deployment(analysis: &crate::Analysis, from: Option<&str>) -> Option<i32> {
    let from = from?;
    let deployments = &analysis.config.deployments;
    if deployments.iter().any(|d| d == from) {
        return None;
    }
    eprintln!(
        "error: --from {from}: not a deployment; the deployments are: {} (`--deploy {from}` adds it)",
        deployments.join(", ")
    );
    Some(2)
}

/// Why a run checked nothing, if it did not: no Rust file, or no request handler among them.
fn nothing_to_check(analysis: &crate::Analysis) -> Option<&'static str> {
    if analysis.model.files.is_empty() {
        Some("no Rust files")
    } else if analysis.routes.is_empty() {
        Some("no request handlers found (routes of axum, actix-web, rocket, poem, salvo, warp, tonic, jsonrpsee and the others the README lists, or async functions taking extractors)")
    } else {
        None
    }
}

/// The analysis of PATH with its configuration, for the commands that take only those two; or the exit
/// status of an error already reported.
fn analysed(
    path: Option<PathBuf>,
    config: Option<PathBuf>,
    cache: CacheArgs,
) -> Result<(PathBuf, crate::Analysis), i32> {
    let args = CheckArgs {
        path,
        config,
        cache,
        ..CheckArgs::default()
    };
    let (root, config) = setup(&args)?;
    let analysis = analyse(&root, config, false);
    Ok((root, analysis))
}

fn baseline(
    path: Option<PathBuf>,
    config: Option<PathBuf>,
    output: Option<PathBuf>,
    cache: CacheArgs,
) -> i32 {
    let (root, analysis) = match analysed(path, config, cache) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let file = output.unwrap_or_else(|| {
        let dir = if root.is_file() {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            root.clone()
        };
        dir.join(crate::gate::BASELINE_FILE)
    });
    let baseline = crate::gate::baseline_of(&analysis);
    let text = crate::gate::baseline_text(&baseline);
    // Written aside, read back and parsed before it replaces the old one.
    let checked = write_atomically(&file, &text).and_then(|_| {
        let back = std::fs::read_to_string(&file)?;
        serde_json::from_str::<crate::gate::Baseline>(&back)
            .map(|_| ())
            .map_err(std::io::Error::other)
    });
    match checked {
        Ok(()) => {
            println!(
                "wrote {}: {} findings and {} route estimates; `hopcheck check --baseline {}` now fails only on new or worse ones",
                file.display(),
                baseline.findings.len(),
                baseline.routes.len(),
                file.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", file.display());
            2
        }
    }
}

fn plan(args: CheckArgs) -> i32 {
    let (root, config) = match setup(&args) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let analysis = analyse(&root, config, args.quiet);
    if !args.quiet {
        for note in analysis.notes() {
            eprintln!("note: {note}");
        }
    }
    let plan = crate::plan::plan(&analysis);
    let text = match args.format.as_str() {
        "json" => crate::report::plan::json(&plan),
        _ => crate::report::plan::human(&plan),
    };
    // A closed pipe (`hopcheck plan | head`) is not an error.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
    0
}

/// `hopcheck report --html FILE`: the page, written aside and renamed into place.
fn report(args: ReportArgs) -> i32 {
    let links = match &args.source_url {
        Some(template) => match crate::report::markdown::Links::template(template) {
            Ok(links) => links,
            Err(e) => {
                eprintln!("error: --source-url {template}: {e}");
                return 2;
            }
        },
        None => crate::report::markdown::Links::from_env(),
    };
    let check = CheckArgs {
        path: args.path,
        config: args.config,
        quiet: args.quiet,
        deploy: args.deploy,
        replica: args.replica,
        primary: args.primary,
        budget: args.budget,
        cache: args.cache,
        ..CheckArgs::default()
    };
    let (root, config) = match setup(&check) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let analysis = analyse(&root, config, check.quiet);
    if !check.quiet {
        for note in analysis.notes() {
            eprintln!("note: {note}");
        }
    }
    if let Some(status) = unknown_deployment(&analysis, args.from.as_deref()) {
        return status;
    }
    let page = crate::report::html::render_from(&analysis, &links, args.from.as_deref());
    match write_atomically(&args.html, &page) {
        Ok(()) => {
            let over = analysis
                .routes
                .iter()
                .filter(|r| r.cost.iter().any(|c| c.over_budget))
                .count();
            println!(
                "wrote {}: {} routes, {over} over budget",
                args.html.display(),
                analysis.routes.len()
            );
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.html.display());
            2
        }
    }
}

fn report_config_errors(errors: &[config::ConfigError]) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_links(false);
    for e in errors {
        let mut text = String::new();
        if handler.render_report(&mut text, e).is_err() || e.span.is_none() {
            text = format!("error: {}: {}\n", e.location(), e.message);
            if let Some(h) = &e.help {
                text.push_str(&format!("  help: {h}\n"));
            }
        }
        eprint!("{text}");
    }
}

/// `hopcheck fix`: analyse, then write, list or diff the fixes (`crate::fix`).
fn fix(path: Option<PathBuf>, config: Option<PathBuf>, dry_run: bool, diff: bool) -> i32 {
    let (_, analysis) = match analysed(path, config, CacheArgs::default()) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let mode = match (dry_run, diff) {
        (true, _) => crate::fix::Mode::DryRun,
        (_, true) => crate::fix::Mode::Diff,
        _ => crate::fix::Mode::Write,
    };
    crate::fix::run(&analysis, mode)
}

fn regions(filter: Option<&str>) -> i32 {
    let filter = filter.map(str::to_lowercase);
    let mut rows: Vec<_> = crate::topology::RegionTable::builtin()
        .regions()
        .filter(|r| {
            filter.as_deref().is_none_or(|f| {
                r.name.to_lowercase().contains(f) || r.location.to_lowercase().contains(f)
            })
        })
        .map(|r| format!("{:6} {:24} {}", r.provider, r.name, r.location))
        .collect();
    rows.sort();
    for r in &rows {
        println!("{r}");
    }
    if rows.is_empty() {
        eprintln!("no region matches");
        return 2;
    }
    0
}

fn init(dir: &Path, what: &config::WhatIf) -> i32 {
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder", dir.display());
        return 2;
    }
    let path = dir.join(config::FILE_NAME);
    if path.exists() {
        eprintln!(
            "error: {} already exists; hopcheck leaves it as it is",
            path.display()
        );
        return 2;
    }
    // The flags name regions and databases of the default topology's shape: check them first.
    let mut config = Config::default_topology();
    if let Err(errors) = config.apply(what) {
        for e in errors {
            eprintln!("error: {e}");
        }
        return 2;
    }
    let analysis = analyse(dir, config, false);
    let text = crate::init::starter(&analysis, what);
    // What it writes must load as it is.
    if let Err(errors) = config::parse(&path, &text) {
        report_config_errors(&errors);
        eprintln!("error: the starter file hopcheck made does not load; nothing was written");
        return 2;
    }
    match write_atomically(&path, &text) {
        Ok(()) => {
            let placeholders = what.deploy.is_empty() || what.primaries.is_empty();
            println!(
                "wrote {}{}",
                path.display(),
                if placeholders {
                    ": replace the placeholder regions with yours (or pass --deploy and --primary main@REGION)"
                } else {
                    ""
                }
            );
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            2
        }
    }
}

pub use crate::atomic::write_atomically;
