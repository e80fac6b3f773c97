//! `passport-reader account create|list|password|webhook-secret`.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use server::Overrides;
use server::accounts;
use server::api::spec::format_timestamp;

use super::store_args::{StoreArgs, block_on, init_logging, open_store};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create an account. The password is read from stdin if piped in; otherwise one is
    /// generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set the account's password (the dashboard's sign-in). The new password is read from
    /// stdin if piped in; otherwise one is generated and printed once. Signs the account out of
    /// the dashboard everywhere.
    Password {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the account's webhook secret (`whsec_…`), which signs its callbacks the Standard
    /// Webhooks way; created on first use.
    WebhookSecret {
        /// The account's email address.
        #[arg(long, value_name = "EMAIL")]
        account: String,
        /// Replace the secret with a new one; callbacks sent from now on are signed with it.
        #[arg(long)]
        rotate: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: Command) -> ExitCode {
    init_logging("warn");
    block_on(async move {
        match command {
            Command::Create { email, store } => {
                let settings = store.settings(Overrides::default())?;
                let piped = read_piped_password()?;
                let (password, generated) = match piped {
                    Some(p) => (p, false),
                    None => (accounts::generate_password(), true),
                };
                let db = open_store(&settings).await?;
                let account = accounts::create_account(&db, &settings.clock, &email, &password)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("Created account {} (id {}).", account.email, account.id);
                if generated {
                    println!("Password (shown only this once): {password}");
                }
                Ok(())
            }
            Command::Password { email, store } => {
                let settings = store.settings(Overrides::default())?;
                let piped = read_piped_password()?;
                let (password, generated) = match piped {
                    Some(p) => (p, false),
                    None => (accounts::generate_password(), true),
                };
                let db = open_store(&settings).await?;
                server::dashboard::password::set_password(&db, &settings.clock, &email, &password)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("Password of {} changed.", email.trim().to_lowercase());
                if generated {
                    println!("Password (shown only this once): {password}");
                }
                Ok(())
            }
            Command::List { store } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                let list = accounts::list_accounts(&db)
                    .await
                    .map_err(|e| e.to_string())?;
                if list.is_empty() {
                    println!(
                        "No accounts. Create one with `passport-reader account create --email EMAIL`."
                    );
                }
                for a in list {
                    println!(
                        "{}\tid {}\tcreated {}",
                        a.email,
                        a.id,
                        format_timestamp(a.created)
                    );
                }
                Ok(())
            }
            Command::WebhookSecret {
                account,
                rotate,
                store,
            } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                let secret = accounts::webhook_secret(&db, &account, rotate)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{secret}");
                Ok(())
            }
        }
    })
}

/// The password from stdin when stdin is not a terminal; `None` if there is none.
fn read_piped_password() -> Result<Option<String>, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = text.trim_end_matches(['\n', '\r']).to_owned();
    Ok((!password.is_empty()).then_some(password))
}
