//! The `hopcheck` binary: parse the command line, run, exit with the status the run decided.

use clap::Parser;

/// Parsing allocates and frees millions of small nodes; mimalloc does that in about half the time of the
/// system allocator (measured with `cargo bench --bench pipeline`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = hopcheck::cli::Cli::parse();
    std::process::exit(hopcheck::cli::run(cli));
}
