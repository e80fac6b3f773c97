//! One module per subcommand. Each exposes an `Args` struct and a `run(args) -> ExitCode`.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// Print the version and exit.
    Version,
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Version => {
            println!("passport-reader {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
