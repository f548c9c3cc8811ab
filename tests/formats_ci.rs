//! The CI formats: SARIF for GitHub code scanning (checked with Microsoft's SARIF validator, with
//! GitHub's rules) and GitLab Code Quality JSON.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

const SHOP: &str = "fixtures/projects/shop";

fn shop() -> PathBuf {
    fixtures().join("projects/shop")
}

/// `hopcheck check --format FORMAT fixtures/projects/shop`, as text.
fn shop_output(format: &str) -> String {
    let out = hopcheck(&["check", "--format", format, SHOP]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a shop route is over budget\n{}",
        stderr(&out)
    );
    stdout(&out)
}

/// The shop's analysis through the library, as the CLI makes it.
fn shop_analysis() -> hopcheck::Analysis {
    let root = shop();
    let config = hopcheck::config::load(&root.join("hopcheck.toml"))
        .unwrap_or_else(|_| panic!("the shop's hopcheck.toml loads"));
    hopcheck::analyze(&root, config)
}

fn render(format: &str, analysis: &hopcheck::Analysis) -> String {
    hopcheck::report::format(format, false, hopcheck::report::Shown::default())
        .unwrap_or_else(|| panic!("--format {format} exists"))
        .render(analysis)
}

/// The report with every lint's documentation (`help.text`, `help.markdown`, and `fullDescription`, the
/// doc's first section) replaced by its file name, so that editing a lint's doc does not change the
/// snapshot; the test below checks the docs themselves.
fn without_docs(sarif: &str) -> String {
    let mut out = sarif.to_string();
    for lint in hopcheck::rules::LINTS {
        let doc = serde_json::to_string(lint.doc).unwrap();
        assert!(
            out.contains(&doc),
            "the SARIF carries lints/{}.md",
            lint.name
        );
        out = out.replace(&doc, &format!("\"[lints/{}.md]\"", lint.name));
    }
    let mut v: Value = serde_json::from_str(&out).unwrap();
    for rule in v["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        let id = rule["id"].as_str().unwrap().to_string();
        rule["fullDescription"]["text"] = Value::String(format!("[lints/{id}.md: What it does]"));
    }
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    text
}

fn assert_no_absolute_paths(text: &str) {
    let root = root();
    let root = root.to_string_lossy();
    assert!(!text.contains(root.as_ref()), "an absolute path:\n{text}");
    assert!(!text.contains("file://"), "an absolute URI:\n{text}");
}

#[test]
fn sarif_of_the_shop() {
    let text = shop_output("sarif");
    assert!(
        text.ends_with("}\n"),
        "pretty-printed, one trailing newline"
    );
    assert!(text.starts_with("{\n  \"$schema\""), "pretty-printed");
    assert_no_absolute_paths(&text);
    assert_eq!(text, shop_output("sarif"), "deterministic");
    insta::assert_snapshot!("shop_sarif", without_docs(&text));
}

#[test]
fn gitlab_of_the_shop() {
    let text = shop_output("gitlab");
    assert!(
        text.ends_with("]\n"),
        "pretty-printed, one trailing newline"
    );
    assert_no_absolute_paths(&text);
    assert_eq!(text, shop_output("gitlab"), "deterministic");
    insta::assert_snapshot!("shop_gitlab", text);
}

#[test]
fn sarif_rules_are_the_lints_with_their_docs() {
    let sarif: Value = serde_json::from_str(&shop_output("sarif")).unwrap();
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "hopcheck");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), hopcheck::rules::LINTS.len());
    for (rule, lint) in rules.iter().zip(hopcheck::rules::LINTS) {
        assert_eq!(rule["id"], lint.name);
        assert!(rule["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert_eq!(rule["shortDescription"]["text"], lint.summary);
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(!full.is_empty() && !full.contains('\n'), "{full}");
        assert_eq!(rule["help"]["text"], lint.doc);
        assert_eq!(rule["help"]["markdown"], lint.doc);
        let level = match lint.default_level {
            hopcheck::rules::Level::Error => "error",
            hopcheck::rules::Level::Warn => "warning",
            hopcheck::rules::Level::Allow => "note",
        };
        assert_eq!(
            rule["defaultConfiguration"]["level"], level,
            "{}",
            lint.name
        );
        if let Some(uri) = rule.get("helpUri") {
            let uri = uri.as_str().unwrap();
            assert!(uri.starts_with("https://"), "{uri}");
            assert!(uri.ends_with(&format!("lints/{}.md", lint.name)), "{uri}");
        }
    }
}

/// Each SARIF result says what the JSON format says about the same finding.
#[test]
fn sarif_results_match_the_json_findings() {
    let sarif: Value = serde_json::from_str(&shop_output("sarif")).unwrap();
    let (_, json) = check_json(&shop(), &[]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let findings = json["diagnostics"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    assert!(!results.is_empty(), "the shop has findings");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let mut with_related = 0;
    for (r, d) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], d["lint"]);
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], d["lint"],
            "ruleIndex points at its rule"
        );
        assert_eq!(r["level"], d["severity"]);
        let text = r["message"]["text"].as_str().unwrap();
        let message = d["message"].as_str().unwrap();
        let first = message.chars().next().unwrap();
        // The message (its first letter capitalised) as the first sentence, then the help.
        assert!(
            text[first.len_utf8()..].starts_with(&message[first.len_utf8()..]),
            "{text}"
        );
        assert!(text.ends_with('.'), "{text}");
        let help = d["help"].as_str().unwrap();
        let help: String = help.chars().skip(1).take(50).collect();
        assert!(text.contains(&help), "{text}");

        let locations = r["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        // From the repository's root: the fixture sits in this repository.
        assert_eq!(
            physical["artifactLocation"]["uri"].as_str().unwrap(),
            format!("fixtures/projects/shop/{}", d["file"].as_str().unwrap())
        );
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let region = &physical["region"];
        // The shop's source is ASCII, so UTF-16 columns are character columns.
        assert_eq!(region["startLine"], d["line"]);
        assert_eq!(region["startColumn"], d["column"]);
        assert_eq!(region["endLine"], d["end_line"]);
        assert_eq!(region["endColumn"], d["end_column"]);
        assert!(
            region["endColumn"].as_u64() > region["startColumn"].as_u64()
                || region["endLine"].as_u64() > region["startLine"].as_u64(),
            "a non-empty span: {region}"
        );
        assert_eq!(locations[0]["message"]["text"], d["label"]);

        let related = d["related"].as_array().unwrap();
        let sarif_related = r
            .get("relatedLocations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_eq!(sarif_related.len(), related.len());
        for (i, (s, j)) in sarif_related.iter().zip(related).enumerate() {
            assert_eq!(s["id"], i + 1);
            assert_eq!(s["message"]["text"], j["message"]);
            let p = &s["physicalLocation"];
            assert_eq!(
                p["artifactLocation"]["uri"].as_str().unwrap(),
                format!("fixtures/projects/shop/{}", d["file"].as_str().unwrap())
            );
            assert_eq!(p["region"]["startLine"], j["line"]);
            assert_eq!(p["region"]["startColumn"], j["column"]);
            with_related += 1;
        }

        let fingerprint = d["fingerprint"].as_str().unwrap();
        assert!(!fingerprint.is_empty());
        assert_eq!(
            r["partialFingerprints"]["primaryLocationLineHash"],
            fingerprint
        );
        assert_eq!(r["partialFingerprints"]["hopcheck/v1"], fingerprint);
        assert!(r.get("suppressions").is_none(), "nothing is suppressed");
    }
    assert!(with_related > 0, "the shop's findings have related spans");
}

/// A line inserted above a finding moves its region but keeps its fingerprint.
#[test]
fn sarif_fingerprints_survive_line_shifts() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shop(), dir.path());
    let users = dir.path().join("src/routes/users.rs");
    let text = std::fs::read_to_string(&users).unwrap();
    std::fs::write(&users, format!("// A comment.\n\n{text}")).unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let sarif = |path: &str| -> Vec<(String, u64, String)> {
        let out = hopcheck(&["check", "--format", "sarif", path]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let p = &r["locations"][0]["physicalLocation"];
                (
                    p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    p["region"]["startLine"].as_u64().unwrap(),
                    r["partialFingerprints"]["primaryLocationLineHash"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    // Both copies outside any repository, so their paths compare.
    let base = tempfile::tempdir().unwrap();
    copy_dir(&shop(), base.path());
    let before = sarif(&base.path().to_string_lossy());
    let after = sarif(&d);
    assert_eq!(before.len(), after.len());
    let mut moved = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert_eq!(b.2, a.2, "same fingerprint for {b:?} and {a:?}");
        if b.0 == "src/routes/users.rs" {
            assert_eq!(b.1 + 2, a.1);
            moved += 1;
        } else {
            assert_eq!(b.1, a.1);
        }
    }
    assert!(moved > 0);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Suppressed findings stay in SARIF, marked; GitLab leaves them out.
#[test]
fn suppressed_findings_in_sarif_and_gitlab() {
    let analysis = suppressed_analysis();
    let sarif: Value = serde_json::from_str(&render("sarif", &analysis)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), analysis.diagnostics.len());
    let suppressions: Vec<&Value> = results
        .iter()
        .filter_map(|r| r.get("suppressions"))
        .collect();
    assert_eq!(
        suppressions,
        [
            &serde_json::json!([{ "kind": "inSource", "justification": "one query per item is fine here" }]),
            &serde_json::json!([{ "kind": "external", "justification": "accepted in hopcheck-baseline.json" }]),
            &serde_json::json!([{ "kind": "external", "justification": "[ignore] in hopcheck.toml" }]),
        ]
    );

    let gitlab: Value = serde_json::from_str(&render("gitlab", &analysis)).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert_eq!(issues.len(), analysis.diagnostics.len() - 3);
    let kept: Vec<&str> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none())
        .map(|d| d.fingerprint.as_str())
        .collect();
    let listed: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(listed, kept);
}

/// A copy of the shop with an allow comment on the sequential queries of `user_profile` and
/// `src/routes/orders.rs` under `[ignore]`.
fn suppressed_shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shop(), dir.path());
    let users = dir.path().join("src/routes/users.rs");
    let text = std::fs::read_to_string(&users).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[22].contains("db::orders_for"),
        "line 23: {}",
        lines[22]
    );
    lines.insert(
        22,
        "    // hopcheck: allow(sequential-queries) the orders need the user first",
    );
    std::fs::write(&users, lines.join("\n") + "\n").unwrap();
    let config = dir.path().join("hopcheck.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[ignore]\npaths = [\"src/routes/orders.rs\"]\n");
    std::fs::write(&config, toml).unwrap();
    dir
}

/// An allow comment and `[ignore]` end to end: SARIF marks the findings `inSource` and `external`,
/// GitLab lists only the rest.
#[test]
fn suppressed_findings_from_the_code_and_the_config() {
    let dir = suppressed_shop();
    let d = dir.path().to_string_lossy().into_owned();
    let out = hopcheck(&["check", "--format", "sarif", &d]);
    let text = stdout(&out);
    assert_no_absolute_paths(&text);
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let findings = json["diagnostics"].as_array().unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut kinds = Vec::new();
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["ruleId"], f["lint"]);
        let Some(s) = f.get("suppressed") else {
            assert!(r.get("suppressions").is_none(), "{r}");
            continue;
        };
        let want = if s["kind"] == "inline" {
            "inSource"
        } else {
            "external"
        };
        assert_eq!(
            r["suppressions"],
            serde_json::json!([{ "kind": want, "justification": s["reason"] }])
        );
        kinds.push(want);
    }
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds, ["external", "inSource"]);
    let inline = results
        .iter()
        .find(|r| r["suppressions"][0]["kind"] == "inSource")
        .unwrap();
    assert_eq!(
        inline["suppressions"][0]["justification"],
        "the orders need the user first"
    );

    let out = hopcheck(&["check", "--allow-empty", "--format", "gitlab", &d]);
    let gitlab: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&Value> = gitlab
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["fingerprint"])
        .collect();
    let unsuppressed: Vec<&Value> = findings
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| &f["fingerprint"])
        .collect();
    assert!(!unsuppressed.is_empty() && unsuppressed.len() < findings.len());
    assert_eq!(listed, unsuppressed);
}

/// The shop's analysis with its first three findings suppressed: inline, by the baseline and by the
/// configuration.
fn suppressed_analysis() -> hopcheck::Analysis {
    let mut analysis = shop_analysis();
    assert!(analysis.diagnostics.len() > 3, "the shop has findings");
    let how = [
        ("inline", "one query per item is fine here"),
        ("baseline", "accepted in hopcheck-baseline.json"),
        ("config", "[ignore] in hopcheck.toml"),
    ];
    for (d, (kind, reason)) in analysis.diagnostics.iter_mut().zip(how) {
        d.suppressed = Some(hopcheck::rules::Suppressed {
            kind,
            reason: reason.to_string(),
        });
    }
    analysis
}

#[test]
fn gitlab_code_quality_shape() {
    let gitlab: Value = serde_json::from_str(&shop_output("gitlab")).unwrap();
    let (_, json) = check_json(&shop(), &[]);
    let issues = gitlab.as_array().expect("an array of issues");
    let findings = json["diagnostics"].as_array().unwrap();
    assert_eq!(issues.len(), findings.len());
    assert!(!issues.is_empty());
    let mut fingerprints = std::collections::HashSet::new();
    let mut severities = std::collections::BTreeSet::new();
    for (issue, d) in issues.iter().zip(findings) {
        let keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "description",
            "check_name",
            "fingerprint",
            "severity",
            "location",
        ] {
            assert!(keys.contains(&key), "{key} in {issue}");
        }
        assert_eq!(issue["description"], d["message"]);
        assert_eq!(issue["check_name"], d["lint"]);
        let fingerprint = issue["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint, d["fingerprint"]);
        assert!(
            fingerprints.insert(fingerprint.to_string()),
            "unique: {fingerprint}"
        );
        let severity = issue["severity"].as_str().unwrap();
        let want = match d["severity"].as_str().unwrap() {
            "warning" => "minor",
            "error" => "major",
            other => panic!("severity {other}"),
        };
        assert_eq!(severity, want);
        severities.insert(severity.to_string());
        assert_eq!(
            issue["location"]["path"].as_str().unwrap(),
            format!("fixtures/projects/shop/{}", d["file"].as_str().unwrap())
        );
        assert_eq!(issue["location"]["lines"]["begin"], d["line"]);
        assert_eq!(issue["location"]["lines"]["end"], d["end_line"]);
    }
    assert_eq!(
        severities.into_iter().collect::<Vec<_>>(),
        ["major", "minor"],
        "the shop has an error and warnings"
    );
    // The finding the README shows, where the JSON format puts it.
    let profile = issues
        .iter()
        .find(|i| {
            i["check_name"] == "sequential-queries"
                && i["location"]["path"] == "fixtures/projects/shop/src/routes/users.rs"
        })
        .expect("the sequential queries of user_profile");
    assert_eq!(profile["location"]["lines"]["begin"], 23);
}

#[test]
fn gitlab_of_no_findings_is_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.rs"),
        "pub fn add(a: u32, b: u32) -> u32 { a + b }\n",
    )
    .unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let out = hopcheck(&["check", "--allow-empty", "--format", "gitlab", &d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[]\n");
    let out = hopcheck(&["check", "--format", "sarif", &d]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

// The validator: Microsoft's SARIF multitool with the SARIF and GitHub (`Gh`) rule sets.

/// The validator's binary, installed once per test run.
fn multitool() -> &'static Path {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        let dir = npm_package("@microsoft/sarif-multitool", "5.7.0");
        let bin = dir.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
        assert!(bin.is_file(), "{} is installed", bin.display());
        // npm may skip the package's postinstall, which makes the binary executable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mut perms = std::fs::metadata(&bin).unwrap().permissions();
            perms.set_mode(perms.mode() | 0o100);
            std::fs::set_permissions(&bin, perms).unwrap();
        }
        bin
    })
}

/// The validator's findings on `sarif` as (level, rule, message); its exit status is 0 even when it
/// finds errors, so its own SARIF report is what tells.
fn validate(sarif: &str) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hopcheck.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, sarif).unwrap();
    let out = Command::new(multitool())
        .arg("validate")
        .arg(&input)
        .args(["--rule-kind", "Sarif;Gh", "-o"])
        .arg(&output)
        .args(["--log", "ForceOverwrite"])
        .output()
        .expect("the SARIF multitool runs");
    let report = std::fs::read_to_string(&output).unwrap_or_else(|e| {
        panic!(
            "the validator wrote no report ({e}); status {:?}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: Value = serde_json::from_str(&report).unwrap();
    let runs = report["runs"].as_array().expect("the validator's runs");
    assert!(!runs.is_empty());
    let mut found = Vec::new();
    for run in runs {
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for r in run["results"].as_array().cloned().unwrap_or_default() {
            let rule = r["ruleId"].as_str().unwrap_or("").to_string();
            // Results carry a message id and arguments into the rule's message strings.
            let message = r["message"]["text"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let id = r["message"]["id"].as_str().unwrap_or("");
                    let template = rules
                        .iter()
                        .find(|x| x["id"] == rule.as_str())
                        .and_then(|x| x["messageStrings"][id]["text"].as_str())
                        .unwrap_or("");
                    let mut text = template.to_string();
                    for (i, arg) in r["message"]["arguments"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        text = text.replace(&format!("{{{i}}}"), arg.as_str().unwrap_or(""));
                    }
                    text
                });
            // A result without a level is a warning.
            let level = r["level"].as_str().unwrap_or("warning").to_string();
            found.push((level, rule, message));
        }
    }
    found
}

fn assert_valid(what: &str, sarif: &str) {
    if !common::have_npm_package("@microsoft/sarif-multitool", "5.7.0") {
        return;
    }
    let found = validate(sarif);
    for (level, rule, message) in &found {
        eprintln!("{what}: {level} {rule}: {message}");
    }
    let errors: Vec<_> = found.iter().filter(|f| f.0 == "error").collect();
    assert!(
        errors.is_empty(),
        "{what}: the validator found errors: {errors:#?}"
    );
}

#[test]
fn the_validator_accepts_the_shop() {
    assert_valid("shop", &shop_output("sarif"));
}

#[test]
fn the_validator_accepts_suppressed_findings() {
    let dir = suppressed_shop();
    let out = hopcheck(&["check", "--format", "sarif", &dir.path().to_string_lossy()]);
    let sarif = stdout(&out);
    assert!(sarif.contains("\"inSource\"") && sarif.contains("\"external\""));
    assert_valid("allow comment and [ignore]", &sarif);

    let sarif = render("sarif", &suppressed_analysis());
    assert!(sarif.contains("\"suppressions\""));
    assert_valid("inline, baseline and config", &sarif);
}

/// The check above can fail: a report without a message and with a line 0 does.
#[test]
fn the_validator_rejects_a_broken_report() {
    if !common::have_npm_package("@microsoft/sarif-multitool", "5.7.0") {
        return;
    }
    let mut sarif: Value = serde_json::from_str(&shop_output("sarif")).unwrap();
    let result = &mut sarif["runs"][0]["results"][0];
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    result["message"].as_object_mut().unwrap().remove("text");
    let found = validate(&serde_json::to_string_pretty(&sarif).unwrap());
    let errors: Vec<&str> = found
        .iter()
        .filter(|f| f.0 == "error")
        .map(|f| f.1.as_str())
        .collect();
    assert!(errors.contains(&"JSON1008"), "{found:#?}");
    assert!(errors.contains(&"GH1015"), "{found:#?}");
}
