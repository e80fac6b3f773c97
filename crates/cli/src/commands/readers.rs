//! `passport-reader readers`: lists the PC/SC readers and whether each holds a card.

use std::process::ExitCode;

use reader::{TransportError, list_readers};

/// List the smart-card readers (PC/SC) and whether a card is on each.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    match list_readers() {
        Ok(readers) => {
            for r in readers {
                let card = if r.card_present {
                    "card present"
                } else {
                    "no card"
                };
                println!("{}\t{card}", r.name);
            }
            ExitCode::SUCCESS
        }
        Err(TransportError::ServiceUnavailable(detail)) => {
            eprintln!(
                "error: the PC/SC service is not running ({detail}); start pcscd (e.g. `sudo systemctl start pcscd`, or `pcscd` as root)"
            );
            ExitCode::from(1)
        }
        Err(TransportError::NoReader) => {
            eprintln!("error: no smart-card reader is connected (pcscd is running but sees none)");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
