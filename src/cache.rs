//! The facts cache: each file's facts from an earlier run, used again while everything they depend on is
//! the same: the file's text and path, hopcheck's version, the catalog its crate's dependencies and the
//! configuration make, and the analysed code's own macros.
//!
//! One file per analysed folder (`facts-<hash of its path>.bin`) in the cache folder holds its entries,
//! written whole to a temporary file and renamed into place, so that a run never reads half a write and
//! concurrent runs each leave a whole file. A pack that does not read back (another version's, a
//! truncated or edited one) counts as empty and is written again. Entries no run has used for
//! [`KEEP_WRITES`] writes are dropped, the pack stays under [`MAX_BYTES`], and packs of folders no run
//! has analysed for [`STALE_DAYS`] days are deleted.
//!
//! The cache folder is outside the analysed code by default (the user's cache folder): the code is
//! what a pull request controls, and a pack it carried would decide what the gate sees.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::catalog::Catalog;
use crate::facts::macros::MacroTable;
use crate::facts::FileFacts;

/// The build that wrote a pack and its entries: hopcheck's version and a hash of the sources it was built
/// from (`build.rs`), since two builds of one version may extract different facts.
pub(crate) const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("HOPCHECK_SOURCE_ID"));

/// The environment variable that names the cache folder (`--cache-dir` wins over it).
pub const DIR_VARIABLE: &str = "HOPCHECK_CACHE_DIR";
/// Packs of folders not analysed for this many days are deleted when another pack is written.
const STALE_DAYS: u64 = 30;
const MAGIC: &[u8; 8] = b"HOPFACTS";
/// The layout of the pack; a pack of another layout or another hopcheck is not read.
const FORMAT: u32 = 1;
/// Entries unused for this many writes of the pack are dropped.
const KEEP_WRITES: u32 = 8;
/// The most the pack holds; the least recently used entries go first.
const MAX_BYTES: usize = 128 << 20;

#[derive(Serialize, Deserialize, Default)]
struct Pack {
    /// hopcheck's version: a pack another version wrote is not read.
    version: String,
    /// How many times the pack was written.
    writes: u32,
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: u128,
    /// The write after which a run last used it.
    used: u32,
    /// The file's facts without its text (postcard), written as one run of bytes: a pack is read and
    /// written whole on every run that changes it.
    #[serde(with = "serde_bytes")]
    facts: Vec<u8>,
}

/// The cache of one run: what the pack held, and what the run used and made.
pub struct FactsCache {
    pack: PathBuf,
    writes: u32,
    old: HashMap<u128, Entry>,
    used: Mutex<Vec<u128>>,
    fresh: Mutex<Vec<Entry>>,
    catalogs: Mutex<HashMap<usize, u128>>,
    macros: u64,
}

impl FactsCache {
    /// The cache in the pack file `pack`, with what it holds (nothing, when it is missing or does not
    /// read back).
    pub fn open(pack_file: &Path, macros: &MacroTable) -> FactsCache {
        let pack = std::fs::read(pack_file)
            .ok()
            .and_then(|bytes| read_pack(&bytes))
            .unwrap_or_default();
        let mut hasher = Xxh3::new();
        macros.hash(&mut hasher);
        FactsCache {
            pack: pack_file.to_path_buf(),
            writes: pack.writes,
            old: pack.entries.into_iter().map(|e| (e.key, e)).collect(),
            used: Mutex::new(Vec::new()),
            fresh: Mutex::new(Vec::new()),
            catalogs: Mutex::new(HashMap::new()),
            macros: hasher.finish(),
        }
    }

    /// The key of a file's facts: its path and text, the catalog it is read with, the macros and
    /// hopcheck's version.
    pub fn key(&self, rel: &str, source: &str, catalog: &std::sync::Arc<Catalog>) -> u128 {
        let id = std::sync::Arc::as_ptr(catalog) as usize;
        let catalog_key = self.catalogs.lock().ok().and_then(|m| m.get(&id).copied());
        let catalog_key = catalog_key.unwrap_or_else(|| {
            let k = xxhash_rust::xxh3::xxh3_128(format!("{catalog:?}").as_bytes());
            if let Ok(mut m) = self.catalogs.lock() {
                m.insert(id, k);
            }
            k
        });
        let mut h = Xxh3::new();
        h.update(BUILD.as_bytes());
        h.update(&[0]);
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(&catalog_key.to_le_bytes());
        h.update(&self.macros.to_le_bytes());
        h.update(source.as_bytes());
        h.digest128()
    }

    /// The facts an earlier run found for this key, given the file's text back.
    pub fn get(&self, key: u128, source: &str) -> Option<FileFacts> {
        let entry = self.old.get(&key)?;
        let mut facts: FileFacts = postcard::from_bytes(&entry.facts).ok()?;
        facts.source = source.to_string();
        if let Ok(mut used) = self.used.lock() {
            used.push(key);
        }
        Some(facts)
    }

    /// Keeps a file's facts for the next run.
    pub fn put(&self, key: u128, facts: &FileFacts) {
        let Ok(bytes) = postcard::to_stdvec(facts) else {
            return;
        };
        if let Ok(mut fresh) = self.fresh.lock() {
            fresh.push(Entry {
                key,
                used: 0,
                facts: bytes,
            });
        }
    }

    /// How many files came from the cache, and how many were parsed and kept.
    pub fn counts(&self) -> (usize, usize) {
        let used = self.used.lock().map(|u| u.len()).unwrap_or(0);
        let fresh = self.fresh.lock().map(|f| f.len()).unwrap_or(0);
        (used, fresh)
    }

    /// Writes the pack when the run parsed something new: the entries it used or made, and those of
    /// earlier runs still recent enough. Nothing is written when every file came from the cache.
    pub fn save(self) -> std::io::Result<()> {
        let fresh = self.fresh.into_inner().unwrap_or_default();
        if fresh.is_empty() {
            return Ok(());
        }
        let writes = self.writes + 1;
        let used: std::collections::HashSet<u128> = self
            .used
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut entries: Vec<Entry> = self
            .old
            .into_values()
            .map(|mut e| {
                if used.contains(&e.key) {
                    e.used = writes;
                }
                e
            })
            .filter(|e| e.used + KEEP_WRITES > writes)
            .collect();
        let fresh_keys: std::collections::HashSet<u128> = fresh.iter().map(|e| e.key).collect();
        entries.retain(|e| !fresh_keys.contains(&e.key));
        entries.extend(fresh.into_iter().map(|mut e| {
            e.used = writes;
            e
        }));
        // The most recently used first, then cut at the size bound.
        entries.sort_by(|a, b| b.used.cmp(&a.used).then(a.key.cmp(&b.key)));
        let mut total = 0;
        entries.retain(|e| {
            total += e.facts.len() + 24;
            total <= MAX_BYTES
        });
        let pack = Pack {
            version: BUILD.to_string(),
            writes,
            entries,
        };
        let payload = postcard::to_stdvec(&pack).map_err(std::io::Error::other)?;
        let mut bytes = Vec::with_capacity(payload.len() + 20);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        write_pack(&self.pack, &bytes)
    }
}

/// The pack in these bytes, if they are a whole pack of this layout and this version.
fn read_pack(bytes: &[u8]) -> Option<Pack> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (format, rest) = rest.split_at_checked(4)?;
    if u32::from_le_bytes(format.try_into().ok()?) != FORMAT {
        return None;
    }
    let (sum, payload) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(sum.try_into().ok()?) != xxh3_64(payload) {
        return None;
    }
    let pack: Pack = postcard::from_bytes(payload).ok()?;
    (pack.version == BUILD).then_some(pack)
}

/// The pack file of an analysed folder in the cache folder `dir` (`--cache-dir`, else
/// `$HOPCHECK_CACHE_DIR`, else `hopcheck` in the user's cache folder), or `None` where there is no such
/// folder.
pub fn pack_for(dir: Option<&Path>, root: &Path) -> Option<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => match std::env::var_os(DIR_VARIABLE).filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => dirs::cache_dir()?.join("hopcheck"),
        },
    };
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let id = xxh3_64(root.to_string_lossy().as_bytes());
    Some(dir.join(format!("facts-{id:016x}.bin")))
}

/// Writes the pack to a temporary file of this process beside it, then renames it into place. A new
/// folder is made with a `.gitignore` that ignores it and a `CACHEDIR.TAG`, so that neither git nor
/// backups keep it. Packs of other folders that no run has written for [`STALE_DAYS`] days go.
pub(crate) fn write_pack(pack: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = pack.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(".gitignore"), "# Written by hopcheck.\n*\n")?;
        std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# hopcheck's facts cache.\n",
        )?;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = pack
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, pack));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    remove_stale(dir);
    Ok(())
}

/// Deletes the packs in `dir` no run has written for [`STALE_DAYS`] days.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let limit = std::time::Duration::from_secs(STALE_DAYS * 24 * 3600);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("facts-") && name.ends_with(".bin")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > limit);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(rel: &str, text: &str) -> FileFacts {
        crate::parse_source(rel, text.to_string(), Catalog::builtin())
    }

    #[test]
    fn a_file_parsed_once_comes_back_the_same_from_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = std::sync::Arc::new(Catalog::builtin().clone());
        let text = "async fn h(db: &sqlx::PgPool) { sqlx::query(\"SELECT 1\").execute(db).await; }";
        let cache = FactsCache::open(&dir.path().join("facts-0.bin"), &MacroTable::default());
        let key = cache.key("src/a.rs", text, &catalog);
        assert!(cache.get(key, text).is_none());
        let facts = facts_of("src/a.rs", text);
        cache.put(key, &facts);
        cache.save().unwrap();
        let again = FactsCache::open(&dir.path().join("facts-0.bin"), &MacroTable::default());
        let back = again.get(key, text).expect("a hit");
        assert_eq!(format!("{back:?}"), format!("{facts:?}"));
        // Another text, path or macro table is another key.
        assert_ne!(again.key("src/a.rs", "fn x() {}", &catalog), key);
        assert_ne!(again.key("src/b.rs", text, &catalog), key);
        let macros = MacroTable::from_texts(["macro_rules! m { () => {} }"]);
        assert_ne!(
            FactsCache::open(&dir.path().join("facts-0.bin"), &macros)
                .key("src/a.rs", text, &catalog),
            key
        );
    }

    #[test]
    fn a_damaged_pack_is_empty_and_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = std::sync::Arc::new(Catalog::builtin().clone());
        let text = "async fn h() {}";
        let cache = FactsCache::open(
            &dir.path().join("cache/facts-0.bin"),
            &MacroTable::default(),
        );
        let key = cache.key("src/a.rs", text, &catalog);
        cache.put(key, &facts_of("src/a.rs", text));
        cache.save().unwrap();
        let pack = dir.path().join("cache/facts-0.bin");
        let mut bytes = std::fs::read(&pack).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&pack, &bytes).unwrap();
        let damaged = FactsCache::open(
            &dir.path().join("cache/facts-0.bin"),
            &MacroTable::default(),
        );
        assert!(damaged.get(key, text).is_none());
        damaged.put(key, &facts_of("src/a.rs", text));
        damaged.save().unwrap();
        assert!(FactsCache::open(
            &dir.path().join("cache/facts-0.bin"),
            &MacroTable::default()
        )
        .get(key, text)
        .is_some());
        // Truncated or foreign bytes read as empty too.
        std::fs::write(&pack, b"HOPFACTS").unwrap();
        assert!(FactsCache::open(
            &dir.path().join("cache/facts-0.bin"),
            &MacroTable::default()
        )
        .get(key, text)
        .is_none());
        assert!(dir.path().join("cache/.gitignore").exists());
        // Another folder's pack that no run wrote for a long time goes when a pack is written.
        let stale = dir.path().join("cache/facts-1.bin");
        std::fs::write(&stale, b"old").unwrap();
        let long_ago = std::time::SystemTime::now()
            - std::time::Duration::from_secs((STALE_DAYS + 1) * 24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let cache = FactsCache::open(&pack, &MacroTable::default());
        cache.put(key, &facts_of("src/a.rs", text));
        cache.save().unwrap();
        assert!(!stale.exists() && pack.exists());
    }

    #[test]
    fn entries_no_run_uses_are_dropped_after_a_few_writes() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = std::sync::Arc::new(Catalog::builtin().clone());
        let old_text = "async fn old() {}";
        let cache = FactsCache::open(&dir.path().join("facts-0.bin"), &MacroTable::default());
        let old = cache.key("src/a.rs", old_text, &catalog);
        cache.put(old, &facts_of("src/a.rs", old_text));
        cache.save().unwrap();
        for n in 0..KEEP_WRITES {
            let cache = FactsCache::open(&dir.path().join("facts-0.bin"), &MacroTable::default());
            let text = format!("async fn f{n}() {{}}");
            let key = cache.key("src/b.rs", &text, &catalog);
            cache.put(key, &facts_of("src/b.rs", &text));
            cache.save().unwrap();
        }
        let cache = FactsCache::open(&dir.path().join("facts-0.bin"), &MacroTable::default());
        assert!(cache.get(old, old_text).is_none());
        assert_eq!(cache.old.len() as u32, KEEP_WRITES);
    }
}
