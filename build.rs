//! Gives the build an identity for the facts cache: a hash of hopcheck's own sources and lock file, so
//! that a cache written by one build is never read by another (facts are read back by position, not by
//! name). Reads only this package's files; downloads and runs nothing.

use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files.iter().map(Path::new).chain([Path::new("Cargo.lock")]) {
        file.to_string_lossy().hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    println!(
        "cargo:rustc-env=HOPCHECK_SOURCE_ID={:016x}",
        hasher.finish()
    );
}

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
}
