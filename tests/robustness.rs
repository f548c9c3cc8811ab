//! Hostile and odd input: every case ends in a report or a finding, never a crash.

mod common;

use common::*;

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

const HANDLER: &str =
    "async fn h(State(db): State<PgPool>) { sqlx::query(\"SELECT 1\").execute(&db).await; }\n";

#[test]
fn an_empty_tree_is_a_clean_report() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing to check fails a gate unless allowed; allowed, the report says what it found.
    let out = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let out = hopcheck(&["check", "--allow-empty", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("no request handlers found"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_non_utf8_file_is_reported_and_the_rest_analysed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/bad.rs",
        b"fn f() { let s = \"\xff\xfe\"; }\n",
    );
    write(dir.path(), "src/good.rs", HANDLER.as_bytes());
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1, "a file it could not read fails the run");
    let d = &json["diagnostics"][0];
    assert_eq!(d["lint"], "parse-error");
    assert_eq!(d["file"], "src/bad.rs");
    assert!(d["message"].as_str().unwrap().contains("not UTF-8"));
    assert_eq!(json["routes"].as_array().unwrap().len(), 1);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 900;
    let body = format!("{}{}", "if a { ".repeat(depth), "} ".repeat(depth));
    let src = format!(
        "async fn h(State(db): State<PgPool>) {{ {body} }}\nfn g() {{ let x = {}1{}; }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    write(dir.path(), "deep.rs", src.as_bytes());
    let too_deep = format!(
        "async fn g() {{ let x = {}1{}; }}\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    write(dir.path(), "deeper.rs", too_deep.as_bytes());
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1, "the file too deep to read fails the run");
    let lints: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["file"].as_str().unwrap(), d["lint"].as_str().unwrap()))
        .collect();
    assert_eq!(lints, [("deeper.rs", "parse-error")]);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/a.rs", HANDLER.as_bytes());
    std::os::unix::fs::symlink(dir.path(), dir.path().join("src/loop")).unwrap();
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 0);
    assert_eq!(json["routes"].as_array().unwrap().len(), 1);
}

#[test]
fn gitignored_target_test_and_example_folders_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Cargo.toml", b"[package]\nname = \"x\"\n");
    write(dir.path(), ".gitignore", b"/generated\n");
    for place in [
        "src/lib.rs",
        "generated/a.rs",
        "target/debug/b.rs",
        "tests/it.rs",
        "benches/b.rs",
        "examples/server.rs",
        ".hidden/c.rs",
    ] {
        let name = place.replace(['/', '.'], "_");
        write(
            dir.path(),
            place,
            HANDLER
                .replace("fn h(", &format!("fn h_{name}("))
                .as_bytes(),
        );
    }
    let (_, json) = check_json(dir.path(), &[]);
    let files: Vec<&str> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/lib.rs"]);
}

#[test]
fn a_service_with_no_known_database_calls_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/main.rs",
        b"async fn h(State(db): State<DbPool>) { diesel_call(&db); }\n",
    );
    let out = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert!(
        stdout(&out).contains("no database round trips found"),
        "{}",
        stdout(&out)
    );
    let (_, json) = check_json(dir.path(), &[]);
    assert!(json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("no database round trips")));
}

#[test]
fn a_huge_file_is_reported_unparsed_and_the_rest_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let mut huge = b"// generated\n".to_vec();
    huge.resize(9 << 20, b' ');
    write(dir.path(), "src/generated.rs", &huge);
    write(
        dir.path(),
        "src/main.rs",
        b"async fn h(State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT 1\").fetch_one(&pool).await;\n    sqlx::query(\"SELECT 2\").fetch_one(&pool).await;\n}\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let found: Vec<(String, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["lint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        found.contains(&("src/generated.rs".into(), "parse-error".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("src/main.rs".into(), "sequential-queries".into())),
        "{found:?}"
    );
    let message = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == "src/generated.rs")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("9 MiB, over the 8 MiB limit"), "{message}");
}

#[test]
fn a_local_typed_by_its_own_field_does_not_overflow_the_stack() {
    // `for contact in contact.addresses.iter() { let contact = contact.trim(); .. }`: each name is read
    // from the one before it.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/main.rs",
        b"pub enum Channel { Mail(Contact), Hook(String) }\n\
          pub struct Contact { pub addresses: Vec<String> }\n\
          pub struct Notice { pub channel: Channel, pub org: String }\n\
          pub struct Page;\n\
          impl Page { pub fn iter(&self) -> Vec<String> { vec![] } pub fn is_empty(&self) -> bool { true } }\n\
          async fn member(db: &PgPool, org: &str, address: &str) -> bool {\n\
              sqlx::query(\"SELECT 1\").execute(db).await.is_ok()\n\
          }\n\
          async fn save(State(db): State<PgPool>, Json(mut notice): Json<Notice>) {\n\
              match &mut notice.channel {\n\
                  Channel::Mail(contact) => {\n\
                      if contact.addresses.is_empty() { return; }\n\
                      let mut lower = vec![];\n\
                      for contact in contact.addresses.iter() {\n\
                          let contact = contact.trim().to_lowercase();\n\
                          if !member(&db, &notice.org, &contact).await { return; }\n\
                          lower.push(contact);\n\
                      }\n\
                      contact.addresses = lower;\n\
                  }\n\
                  Channel::Hook(_) => {}\n\
              }\n\
          }\n",
    );
    let (status, json) = check_json(dir.path(), &[]);
    assert!(status == 0 || status == 1, "{json}");
    assert_eq!(json["routes"].as_array().unwrap().len(), 1, "{json}");
}
