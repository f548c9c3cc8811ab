//! Arbitrary bytes as a Rust file: parsed, analysed with the default topology, reported in every format,
//! fixed and planned (`hopcheck_fuzz::run_source`). Seed it with the fixtures' `.rs` files.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        hopcheck_fuzz::run_source(text.to_string());
    }
});
