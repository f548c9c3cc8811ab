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
echo "corpus: $dir/vendor ($(find vendor -name '*.rs' | wc -l) .rs files)"
