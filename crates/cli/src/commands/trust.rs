//! `passport-reader trust import|list`: the server's trust store (CSCA certificates, link and
//! Document Signer certificates, CRLs), kept in its database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use server::Overrides;
use server::api::spec::format_timestamp;
use server::trust::{ParsedEntry, parse_trust_file};

use super::store_args::{StoreArgs, block_on, init_logging, open_store};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import certificates (PEM or DER), CSCA master lists (.ml, their signature must verify)
    /// and CRLs; a folder imports every file in it. Every file is checked first: if one is not
    /// a certificate, CRL or master list, nothing is imported.
    Import {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List what the server trusts.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: Command) -> ExitCode {
    init_logging("warn");
    block_on(async move {
        match command {
            Command::Import { files, store } => {
                let settings = store.settings(Overrides::default())?;
                let parsed = read_all(&files)?;
                let db = open_store(&settings).await?;
                let now = settings.clock.now();
                let (mut added, mut present) = (0, 0);
                for (path, entries) in parsed {
                    for entry in entries {
                        let new = db
                            .add_trust_entry(
                                entry.kind,
                                &entry.der,
                                &server::trust::fingerprint(&entry.der),
                                &entry.description,
                                now,
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                        let verb = if new { "added" } else { "already trusted" };
                        if new {
                            added += 1;
                        } else {
                            present += 1;
                        }
                        println!(
                            "{verb}: {} {} ({})",
                            entry.kind,
                            entry.description,
                            path.display()
                        );
                    }
                }
                println!("{added} added, {present} already trusted.");
                Ok(())
            }
            Command::List { store } => {
                let settings = store.settings(Overrides::default())?;
                let db = open_store(&settings).await?;
                let entries = db.list_trust_entries().await.map_err(|e| e.to_string())?;
                if entries.is_empty() {
                    println!(
                        "Nothing is trusted: every document will be rejected. Import CSCA \
                         certificates or master lists with `passport-reader trust import FILE`."
                    );
                }
                for e in entries {
                    println!(
                        "{}\t{}\tsha256 {}\timported {}",
                        e.kind,
                        e.description,
                        e.sha256,
                        format_timestamp(e.created)
                    );
                }
                Ok(())
            }
        }
    })
}

/// Every file named (folders: their files, recursively, in name order), parsed.
fn read_all(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<ParsedEntry>)>, String> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    if files.is_empty() {
        return Err("no files to import".into());
    }
    files
        .into_iter()
        .map(|path| {
            let data =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let entries =
                parse_trust_file(&data).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((path, entries))
        })
        .collect()
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read folder {}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    children.sort();
    for child in children {
        collect(&child, out)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_read_whole_and_garbage_names_its_file() {
        let dir = std::env::temp_dir().join(format!(
            "trust-import-test-{}-{}",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        let (csca, document) = testdoc::issue_specimen(time::OffsetDateTime::now_utc()).unwrap();
        std::fs::write(dir.join("csca.pem"), csca.pem().unwrap()).unwrap();
        std::fs::write(
            dir.join("nested").join("ds.pem"),
            document.document_signer().pem().unwrap(),
        )
        .unwrap();
        let parsed = read_all(std::slice::from_ref(&dir)).unwrap();
        let kinds: Vec<&str> = parsed
            .iter()
            .flat_map(|(_, entries)| entries.iter().map(|e| e.kind))
            .collect();
        assert_eq!(kinds, ["CSCA", "DOCUMENT_SIGNER"]);
        std::fs::write(dir.join("notes.txt"), "not a certificate").unwrap();
        let error = read_all(std::slice::from_ref(&dir)).unwrap_err();
        assert!(error.contains("notes.txt"), "{error}");
        assert!(read_all(&[dir.join("missing.pem")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
