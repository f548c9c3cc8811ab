//! The report of a `check` kept for the next run: when nothing it was made from has changed, the next
//! run prints it again instead of analysing the code.
//!
//! What a report is made from, and what the next run checks before it prints a kept one:
//! - the options and the configuration's text, hopcheck's build, the date (suppressions expire), the
//!   CI variables that links are made from, whether output goes to a terminal: all in the file's key;
//! - the files the walk finds (the same list: a new or deleted file, a changed `.gitignore`), and the
//!   bytes of each, read again and hashed;
//! - every `Cargo.toml` that decides which libraries a crate depends on (present or absent, and its bytes).
//!
//! Only whole runs are kept: one that failed (exit status 2), that named a cache it could not write, or
//! whose manifests changed while it ran is not. A kept report lives beside the facts cache
//! (`run-<hash of its key>.bin`), written whole and renamed into place, so that concurrent runs each
//! leave a whole file; one that does not read back is ignored and written again.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::discover::Found;

const MAGIC: &[u8; 8] = b"HOPMEMO1";
/// How many kept reports the cache folder holds at most: the least recently written go first.
const MAX_KEPT: usize = 16;
/// Manifests over this size are not read by the analysis either.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// What a run printed and how it ended.
#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The Markdown job summary (`--format github`), appended to the summary file.
    pub summary: Option<String>,
    pub status: i32,
}

/// What the analysis read: each file the walk found with a hash of its bytes, and the manifests it read
/// on top of those beside the found files.
#[derive(Default, Debug, Clone)]
pub struct Inputs {
    pub files: Vec<(PathBuf, u64)>,
    pub manifests: Vec<PathBuf>,
}

/// The hash a file's bytes are kept by (see [`too_large`] for a file not read).
pub fn fingerprint(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

#[derive(Serialize, Deserialize)]
struct Kept {
    /// The walk's list, as `rel` then the path or the error.
    found: Vec<(String, String)>,
    files: Vec<(PathBuf, u64)>,
    manifests: Vec<(PathBuf, Option<u64>)>,
    output: Output,
}

/// The kept report of one combination of options, configuration and analysed folder.
pub struct Memo {
    file: PathBuf,
    key: u128,
    /// Manifests are looked up no higher than this folder.
    fence: Option<PathBuf>,
}

impl Memo {
    /// The memo in the cache folder of `pack` (the facts cache's file) for a run whose every option,
    /// configuration and environment that the output depends on is in `key_text`.
    pub fn new(pack: &Path, root: &Path, key_text: &str) -> Memo {
        // The repository's top: the paths that annotations name start there.
        let repository = crate::discover::repository_of(root);
        let (file, key) = place(pack, "run", &format!("{key_text}\n{repository:?}"));
        let fence = repository.or_else(|| root.canonicalize().ok());
        Memo { file, key, fence }
    }

    /// The kept output, when every input is as it was when it was kept.
    pub fn replay(&self, found: &[Found]) -> Option<Output> {
        let kept: Kept = read_value(&self.file, self.key)?;
        if kept.found != listed(found) {
            return None;
        }
        let files_same = kept
            .files
            .par_iter()
            .all(|(path, hash)| file_fingerprint(path) == Some(*hash));
        let manifests_same = kept
            .manifests
            .iter()
            .all(|(path, hash)| manifest_fingerprint(path) == *hash);
        (files_same && manifests_same).then_some(kept.output)
    }

    /// The manifests the analysis of `found` may read, with their fingerprints now: taken before the
    /// analysis, and compared with the same taken after it.
    pub fn manifests_before(&self, found: &[Found]) -> Vec<(PathBuf, Option<u64>)> {
        self.candidates(found)
            .into_iter()
            .map(|p| {
                let f = manifest_fingerprint(&p);
                (p, f)
            })
            .collect()
    }

    /// Keeps a run's output, unless it failed or a manifest changed while it ran.
    pub fn keep(
        &self,
        found: &[Found],
        inputs: &Inputs,
        before: &[(PathBuf, Option<u64>)],
        output: &Output,
    ) {
        let files = found
            .iter()
            .filter(|f| matches!(f, Found::File { .. }))
            .count();
        // A file that could not be read is read again next time.
        if output.status == 2 || inputs.files.len() != files {
            return;
        }
        // The same manifests again, with those the analysis read on top.
        let mut paths: Vec<&PathBuf> = before.iter().map(|(p, _)| p).collect();
        paths.extend(&inputs.manifests);
        paths.sort();
        paths.dedup();
        let manifests: Vec<(PathBuf, Option<u64>)> = paths
            .into_iter()
            .map(|p| (p.clone(), manifest_fingerprint(p)))
            .collect();
        let changed = before
            .iter()
            .any(|b| manifests.iter().any(|m| m.0 == b.0 && m.1 != b.1));
        if changed {
            return;
        }
        let kept = Kept {
            found: listed(found),
            files: inputs.files.clone(),
            manifests,
            output: output.clone(),
        };
        keep_value(&self.file, self.key, &kept);
    }

    /// The `Cargo.toml` of each folder from a found file's crate up to the repository's top (a
    /// workspace's manifest, whose `[workspace.dependencies]` a crate inherits).
    fn candidates(&self, found: &[Found]) -> Vec<PathBuf> {
        // Each crate's folder once (a crate holds many files), then its way up to the fence.
        let krates: std::collections::BTreeSet<&Path> = found
            .iter()
            .filter_map(|f| match f {
                Found::File { path, .. } => {
                    let start = path.parent()?;
                    Some(
                        path.ancestors()
                            .find(|a| a.file_name().is_some_and(|n| n == "src"))
                            .and_then(Path::parent)
                            .unwrap_or(start),
                    )
                }
                Found::Error { .. } => None,
            })
            .collect();
        let mut dirs = std::collections::BTreeSet::new();
        for krate in krates.into_iter().filter_map(|k| k.canonicalize().ok()) {
            for dir in krate.ancestors() {
                if !dirs.insert(dir.to_path_buf()) {
                    break;
                }
                if self
                    .fence
                    .as_ref()
                    .is_none_or(|f| dir == f || !dir.starts_with(f))
                {
                    break;
                }
            }
        }
        dirs.into_iter().map(|d| d.join("Cargo.toml")).collect()
    }
}

fn listed(found: &[Found]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|f| match f {
            Found::File { path, rel } => (rel.clone(), path.to_string_lossy().into_owned()),
            Found::Error { rel, message } => (rel.clone(), format!("error: {message}")),
        })
        .collect()
}

/// A found file's fingerprint as the parse stage takes it.
fn file_fingerprint(path: &Path) -> Option<u64> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > crate::MAX_FILE_BYTES {
        return Some(too_large(size));
    }
    std::fs::read(path).ok().map(|b| fingerprint(&b))
}

/// The fingerprint of a file too large to read.
pub fn too_large(size: u64) -> u64 {
    xxh3_64(format!("too large: {size}").as_bytes())
}

fn manifest_fingerprint(path: &Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return Some(too_large(meta.len()));
    }
    std::fs::read(path).ok().map(|b| fingerprint(&b))
}

/// Where a value of `kind` (`run`, `base`) kept under `key_text` lives in the cache folder of `pack`, and
/// its key: the text with hopcheck's build and the date (an `allow` with `until=` expires).
pub fn place(pack: &Path, kind: &str, key_text: &str) -> (PathBuf, u128) {
    let mut h = Xxh3::new();
    h.update(crate::cache::BUILD.as_bytes());
    h.update(&[0]);
    h.update(key_text.as_bytes());
    h.update(&[0]);
    h.update(crate::facts::directives::today().as_bytes());
    let key = h.digest128();
    let dir = pack.parent().unwrap_or(Path::new("."));
    (dir.join(format!("{kind}-{:016x}.bin", key as u64)), key)
}

/// The value kept in `file` under `key`, if it reads back whole and this build wrote it.
pub fn read_value<T: serde::de::DeserializeOwned>(file: &Path, key: u128) -> Option<T> {
    let bytes = std::fs::read(file).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, payload) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(sum.try_into().ok()?) != xxh3_64(payload) {
        return None;
    }
    let (build, kept_key, value): (String, u128, T) = postcard::from_bytes(payload).ok()?;
    (build == crate::cache::BUILD && kept_key == key).then_some(value)
}

/// Keeps `value` in `file` under `key`: written whole to a temporary file and renamed into place. The
/// [`MAX_KEPT`] most recently written values of its kind stay.
pub fn keep_value<T: Serialize>(file: &Path, key: u128, value: &T) {
    let Ok(payload) = postcard::to_stdvec(&(crate::cache::BUILD, key, value)) else {
        return;
    };
    let mut bytes = Vec::with_capacity(payload.len() + 16);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    if crate::cache::write_pack(file, &bytes).is_ok() {
        let kind = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .and_then(|n| n.split_once('-').map(|(k, _)| format!("{k}-")))
            .unwrap_or_default();
        prune(file.parent().unwrap_or(Path::new(".")), &kind);
    }
}

/// Keeps the [`MAX_KEPT`] most recently written files whose name starts with `kind` in `dir`.
fn prune(dir: &Path, kind: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut kept: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !kind.is_empty() && name.starts_with(kind) && name.ends_with(".bin")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if kept.len() <= MAX_KEPT {
        return;
    }
    kept.sort_by_key(|k| std::cmp::Reverse(k.0));
    for (_, path) in kept.into_iter().skip(MAX_KEPT) {
        let _ = std::fs::remove_file(path);
    }
}
