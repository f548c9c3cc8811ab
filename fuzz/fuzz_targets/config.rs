//! Arbitrary bytes as a `hopcheck.toml`: loaded, its errors rendered as the CLI prints them, and when it
//! loads, a small service analysed with it (`hopcheck_fuzz::run_config`), so that the topology and budget
//! code meets hostile values. Seed it with the fixtures' `hopcheck.toml` files.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        hopcheck_fuzz::run_config(text.to_string());
    }
});
