//! `passport-reader credentials create|list|revoke`: API credential pairs of an account.

use std::process::ExitCode;

use server::Overrides;
use server::accounts;
use server::api::spec::format_timestamp;

use super::store_args::{StoreArgs, block_on, init_logging, open_store};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a credential pair; the secret is printed once and never again.
    Create {
        /// Email of the account.
        #[arg(long, value_name = "EMAIL")]
        account: String,
        /// A label, e.g. where the pair is used.
        #[arg(long)]
        name: Option<String>,
        /// Print only {"public_key": …, "secret": …} on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List an account's credential pairs (never their secrets).
    List {
        #[arg(long, value_name = "EMAIL")]
        account: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a pair; requests with it are refused from now on.
    Revoke {
        public_key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: Command) -> ExitCode {
    init_logging("warn");
    block_on(async move {
        match command {
            Command::Create {
                account,
                name,
                json,
                store,
            } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                let pair =
                    accounts::create_credentials(&db, &settings.clock, &account, name.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"public_key": pair.public_key, "secret": pair.secret})
                    );
                } else {
                    println!(
                        "Created credentials for {account}. The secret is shown only this once:"
                    );
                    println!("public key: {}", pair.public_key);
                    println!("secret:     {}", pair.secret);
                }
                Ok(())
            }
            Command::List {
                account,
                json,
                store,
            } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                let list = accounts::list_credentials(&db, &account)
                    .await
                    .map_err(|e| e.to_string())?;
                if json {
                    let rows: Vec<_> = list
                        .iter()
                        .map(|c| {
                            serde_json::json!({
                                "public_key": c.public_key,
                                "name": c.name,
                                "created": format_timestamp(c.created),
                                "revoked": c.revoked.map(format_timestamp),
                            })
                        })
                        .collect();
                    println!("{}", serde_json::Value::Array(rows));
                    return Ok(());
                }
                if list.is_empty() {
                    println!("No credentials for {account}.");
                }
                for c in list {
                    let status = match c.revoked {
                        Some(t) => format!("revoked {}", format_timestamp(t)),
                        None => "active".to_owned(),
                    };
                    println!(
                        "{}\t{}\tcreated {}\t{}",
                        c.public_key,
                        c.name.as_deref().unwrap_or("-"),
                        format_timestamp(c.created),
                        status
                    );
                }
                Ok(())
            }
            Command::Revoke { public_key, store } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                accounts::revoke_credentials(&db, &settings.clock, &public_key)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("Revoked {public_key}.");
                Ok(())
            }
        }
    })
}
