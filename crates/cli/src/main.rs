//! `passport-reader`: the one binary. Thin clap front end dispatching into the crates.

mod commands;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "passport-reader",
    version,
    about = "Self-hosted verification of ICAO 9303 electronic passports"
)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    commands::run(cli.command)
}
