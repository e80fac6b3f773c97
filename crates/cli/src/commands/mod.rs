//! One module per subcommand. Each exposes an `Args` struct and a `run(args) -> ExitCode`.

use std::process::ExitCode;

use clap::Subcommand;

pub mod account;
pub mod credentials;
pub mod dump;
pub mod face;
pub mod mrz;
pub mod read;
pub mod readers;
pub mod serve;
pub mod store_args;
mod testdoc;
pub mod trust;
pub mod verify;
pub mod virtual_chip;

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
    /// List the PC/SC smart-card readers and whether each holds a card.
    Readers(readers::Args),
    /// Read a passport chip for a session (PC/SC reader or simulated) and submit it to the server.
    Read(read::Args),
    /// Read a passport chip (PC/SC reader or simulated) and write its files to a folder.
    Dump(dump::Args),
    /// Serve a simulated passport chip to PC/SC through vsmartcard's vpcd.
    VirtualChip(virtual_chip::Args),
    /// The server's trust store: import CSCA certificates, master lists and CRLs; list them.
    #[command(subcommand)]
    Trust(trust::Command),
    /// Face comparison: whether two photographs (selfie, chip portrait) show the same person.
    #[command(subcommand)]
    Face(face::Command),
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
        Command::Readers(args) => readers::run(args),
        Command::Read(args) => read::run(args),
        Command::Dump(args) => dump::run(args),
        Command::VirtualChip(args) => virtual_chip::run(args),
        Command::Trust(command) => trust::run(command),
        Command::Face(command) => face::run(command),
    }
}
