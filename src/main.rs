//! The `salespipe` binary: parse the command line, run, map the error to an exit code.

use clap::Parser;

fn main() {
    let cli = salespipe::cli::Cli::parse();
    if let Err(err) = salespipe::app::run(cli) {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
