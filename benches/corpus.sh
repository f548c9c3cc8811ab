#!/usr/bin/env bash
# Vendors a corpus of real, published Rust web-service code from crates.io into ~/.cache/hopcheck-bench
# (outside the repository) for `cargo bench --bench pipeline`. Needs only cargo.
set -euo pipefail
dir="${HOPCHECK_BENCH_DIR:-$HOME/.cache/hopcheck-bench}"
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<'TOML'
[package]
name = "hopcheck-bench-corpus"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
atuin-server = "18"
atuin-server-postgres = "18"
axum = "0.8"
sqlx = { version = "0.8", default-features = false, features = ["postgres", "runtime-tokio", "macros"] }
TOML
echo "fn main() {}" > "$dir/src/main.rs"
cd "$dir"
cargo vendor --quiet vendor >/dev/null
# Keep the web-service side (the server crates, the web framework, the database driver and what they are
# built on); generated platform bindings would only measure the parser on tables.
mkdir -p corpus
for crate in vendor/atuin* vendor/axum* vendor/sqlx* vendor/tower* vendor/hyper* vendor/http* vendor/tokio*; do
  [ -d "$crate" ] && cp -r "$crate" corpus/
done
echo "corpus: $dir/corpus ($(find corpus -name '*.rs' | wc -l) .rs files)"
