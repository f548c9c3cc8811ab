//! Writing the user's files without ever leaving one half written: a temporary file beside the target,
//! read back, then renamed into place.

use std::io::Write;
use std::path::Path;

/// Writes `text` to a temporary file beside `path`, reads it back, then renames it into place.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.hopcheck-tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if std::fs::read_to_string(&tmp)? != text {
            return Err(std::io::Error::other(
                "the written file does not read back the same",
            ));
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
