//! The `hopcheck` binary: parse the command line, run, exit with the status the run decided.

use clap::Parser;

fn main() {
    let cli = hopcheck::cli::Cli::parse();
    std::process::exit(hopcheck::cli::run(cli));
}
