//! The `salespipe` binary: parse the command line, run, map the error to an exit code.

use clap::Parser;

/// jemalloc for every allocation of the process, DuckDB's included (see `Cargo.toml`).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = salespipe::cli::Cli::parse();
    if let Err(err) = salespipe::app::run(cli) {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
