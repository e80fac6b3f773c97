//! One module per subcommand. Each exposes an `Args` struct and a `run(args) -> ExitCode`.

use std::process::ExitCode;

use clap::Subcommand;

pub mod account;
pub mod credentials;
pub mod mrz;
pub mod serve;
pub mod store_args;
mod testdoc;
pub mod verify;

#[derive(Subcommand)]
pub enum Command {
    /// Print the version and exit.
    Version,
    /// Parse a machine readable zone; print its fields and check digits as JSON.
    Mrz(mrz::Args),
    /// Run the integrator API server.
    Serve(serve::Args),
    /// Manage accounts.
    #[command(subcommand)]
    Account(account::Command),
    /// Manage an account's API credential pairs.
    #[command(subcommand)]
    Credentials(credentials::Command),
    /// Issue test documents (test CSCA, Document Signer, signed chip files).
    Testdoc(testdoc::Args),
    /// Verify a chip's files: passive and active authentication, MRZ, expiry.
    Verify(verify::Args),
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Version => {
            println!("passport-reader {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Mrz(args) => mrz::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Account(command) => account::run(command),
        Command::Credentials(command) => credentials::run(command),
        Command::Testdoc(args) => testdoc::run(args),
        Command::Verify(args) => verify::run(args),
    }
}
