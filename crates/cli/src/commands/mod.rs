//! One module per subcommand. Each exposes an `Args` struct and a `run(args) -> ExitCode`.

use std::process::ExitCode;

use clap::Subcommand;

mod testdoc;

#[derive(Subcommand)]
pub enum Command {
    /// Print the version and exit.
    Version,
    /// Issue test documents (test CSCA, Document Signer, signed chip files).
    Testdoc(testdoc::Args),
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Version => {
            println!("passport-reader {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Testdoc(args) => testdoc::run(args),
    }
}
