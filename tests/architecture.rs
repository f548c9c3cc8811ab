//! The pipeline's stages (`src/<stage>.rs` or `src/<stage>/`) import each other without a cycle: each can
//! be read, tested and changed knowing only the stages before it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages each top-level module of `src/` names in code (`crate::stage`), comments left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let stage = first.trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = out.entry(stage.clone()).or_default();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or("");
                for (i, _) in code.match_indices("crate::") {
                    let name: String = code[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != stage {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn stages_import_each_other_without_a_cycle() {
    let imports = imports();
    assert!(imports.contains_key("resolve") && imports.contains_key("model"));
    // Resolution comes before the model: it knows nothing of routes, costs or copies.
    assert!(
        !imports["resolve"].contains("model"),
        "{:?}",
        imports["resolve"]
    );
    for start in imports.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(&String, Vec<&String>)> = vec![(start, vec![start])];
        while let Some((at, trail)) = stack.pop() {
            for next in imports.get(at).into_iter().flatten() {
                assert!(next != start, "import cycle: {} -> {next}", {
                    let names: Vec<&str> = trail.iter().map(|s| s.as_str()).collect();
                    names.join(" -> ")
                });
                if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
}
