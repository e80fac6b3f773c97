//! `passport-reader testdoc create`: writes a correctly signed eMRTD test document to a folder.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use testdoc::{
    ChipAuthenticationKey, Csca, CscaOptions, Curve, DigestAlgorithm, DocumentBuilder,
    DocumentSignerOptions, Holder, KeyAlgorithm, LdsSecurityObjectVersion, MrzFormat, Sex,
    SignatureScheme, SignerIdentifier,
};
use time::{Date, Duration, Month, OffsetDateTime};

/// Test documents: a test CSCA, a Document Signer and a signed chip, for testing only.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TestdocCommand,
}

#[derive(Subcommand)]
enum TestdocCommand {
    /// Issue a test document: write the chip files (COM, SOD, DG1, DG2, DG14, DG15, CardAccess),
    /// the chip's private keys, the test CSCA and DS certificates and the MRZ into a folder.
    ///
    /// Every key is freshly generated; certificates are marked NOT FOR PRODUCTION.
    /// Unset holder fields come from a fictional Dutch specimen passport.
    Create(CreateArgs),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// Folder to write into (created if missing; existing files are overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Document code: P (passport, TD3 MRZ), or I, ID, A, C… (identity card, TD1 MRZ).
    #[arg(long, value_name = "CODE", default_value = "P")]
    document_type: String,
    /// Issuing state, ICAO 3-letter code (e.g. NLD, DEU, D; UTO needs --csca-country) [default: NLD].
    #[arg(long, value_name = "CODE")]
    issuing_state: Option<String>,
    /// Primary identifier; transliterated to the MRZ alphabet (Müller -> MUELLER).
    #[arg(long, value_name = "NAME")]
    surname: Option<String>,
    /// Secondary identifier, names separated by spaces.
    #[arg(long, value_name = "NAMES")]
    given_names: Option<String>,
    /// Up to 9 characters, A-Z and 0-9.
    #[arg(long, value_name = "NUMBER")]
    document_number: Option<String>,
    /// Nationality, ICAO 3-letter code [default: the issuing state].
    #[arg(long, value_name = "CODE")]
    nationality: Option<String>,
    /// YYMMDD or YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    date_of_birth: Option<String>,
    /// Sex: M, F or X (unspecified).
    #[arg(long, value_enum, ignore_case = true)]
    sex: Option<SexArg>,
    /// Date of expiry, YYMMDD or YYYY-MM-DD [default: 10 years after --now, minus a day].
    #[arg(long, value_name = "DATE")]
    expiry: Option<String>,
    /// Personal number / optional data (TD3: 14 characters, TD1 line 1: 15).
    #[arg(long, value_name = "TEXT")]
    optional_data: Option<String>,

    /// Algorithm with which the Document Signer signs EF.SOD (the test CSCA uses the same key type).
    #[arg(long, value_enum, default_value_t = SignatureArg::Rsa)]
    signature: SignatureArg,
    /// RSA modulus size for --signature rsa / rsa-pss.
    #[arg(long, value_name = "BITS", default_value_t = 2048)]
    rsa_bits: u32,
    /// Digest for the data group hashes and the signature.
    #[arg(long, value_enum, default_value_t = DigestArg::Sha256)]
    digest: DigestArg,
    /// Active authentication key (DG15); `none` leaves out DG15.
    #[arg(long, value_enum, default_value_t = AaArg::Rsa1024)]
    aa: AaArg,
    /// Chip authentication key (DG14); `none` leaves out chip authentication.
    #[arg(long, value_enum, default_value_t = CaArg::EcBrainpoolP256)]
    ca: CaArg,
    /// PACE domain parameters in EF.CardAccess; `none` leaves out EF.CardAccess.
    #[arg(long, value_enum, default_value_t = PaceArg::BrainpoolP256)]
    pace: PaceArg,
    /// LDSSecurityObject version: 0 (LDS 1.7) or 1 (LDS 1.8, with ldsVersionInfo).
    #[arg(long, value_name = "0|1", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    lds_version: u8,
    /// JPEG for DG2 instead of the synthetic portrait.
    #[arg(long, value_name = "FILE")]
    portrait: Option<PathBuf>,
    /// Leave the DS certificate out of EF.SOD (a verifier then needs ds.pem).
    #[arg(long)]
    no_ds_in_sod: bool,
    /// Identify the signer by subjectKeyIdentifier (SignerInfo v3) instead of issuer and serial.
    #[arg(long)]
    signer_key_id: bool,
    /// Encode the DS's EC public key with explicit curve parameters, as many real passports do.
    #[arg(long)]
    explicit_ec_params: bool,
    /// Encode the chip's EC public keys (DG14, and DG15 with an EC --aa) with explicit curve parameters.
    #[arg(long)]
    chip_explicit_ec_params: bool,
    /// Validity of the DS certificate relative to --now (for rejection tests).
    #[arg(long, value_enum, default_value_t = DsValidity::Valid)]
    ds_validity: DsValidity,
    /// Also write crl.pem: a CRL of the test CSCA (empty unless --revoke-ds).
    #[arg(long)]
    crl: bool,
    /// Put the Document Signer on the CSCA's CRL (implies --crl).
    #[arg(long)]
    revoke_ds: bool,
    /// ISO 3166-1 alpha-2 country of the test CSCA [default: from --issuing-state].
    #[arg(long, value_name = "XX")]
    csca_country: Option<String>,
    /// The moment of issuance, YYYY-MM-DD or RFC 3339 [default: the system clock].
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SexArg {
    #[value(name = "M")]
    M,
    #[value(name = "F")]
    F,
    /// Unspecified (`<` in the MRZ).
    #[value(name = "X")]
    X,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SignatureArg {
    Rsa,
    RsaPss,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    EcdsaBrainpoolP256,
    EcdsaBrainpoolP384,
    EcdsaBrainpoolP512,
}

#[derive(Clone, Copy, ValueEnum)]
enum DigestArg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Clone, Copy, ValueEnum)]
enum AaArg {
    Rsa1024,
    Rsa2048,
    EcP256,
    EcBrainpoolP256,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum CaArg {
    EcP256,
    EcBrainpoolP256,
    EcP384,
    EcBrainpoolP384,
    /// DH, 2048-bit MODP group with 256-bit subgroup (RFC 5114 §2.3).
    Dh2048,
    None,
}

#[derive(Clone, Copy, ValueEnum)]
enum PaceArg {
    P256,
    BrainpoolP256,
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DsValidity {
    Valid,
    Expired,
    NotYetValid,
}

pub fn run(args: Args) -> ExitCode {
    let TestdocCommand::Create(create) = args.command;
    match run_create(create) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_create(args: CreateArgs) -> anyhow::Result<()> {
    let now = match &args.now {
        Some(text) => parse_now(text)?,
        None => OffsetDateTime::now_utc(),
    };
    let holder = holder(&args, now)?;
    let country = match &args.csca_country {
        Some(code) => code.to_uppercase(),
        None => testdoc::alpha2_for_alpha3(&holder.issuing_state)
            .ok_or_else(|| {
                anyhow!(
                    "no ISO 3166-1 alpha-2 code known for issuing state {:?}; give one with --csca-country",
                    holder.issuing_state
                )
            })?
            .to_owned(),
    };

    let (key, scheme) = match args.signature {
        SignatureArg::Rsa => (
            KeyAlgorithm::Rsa(args.rsa_bits),
            SignatureScheme::RsaPkcs1v15,
        ),
        SignatureArg::RsaPss => (KeyAlgorithm::Rsa(args.rsa_bits), SignatureScheme::RsaPss),
        SignatureArg::EcdsaP256 => (KeyAlgorithm::Ec(Curve::P256), SignatureScheme::Ecdsa),
        SignatureArg::EcdsaP384 => (KeyAlgorithm::Ec(Curve::P384), SignatureScheme::Ecdsa),
        SignatureArg::EcdsaP521 => (KeyAlgorithm::Ec(Curve::P521), SignatureScheme::Ecdsa),
        SignatureArg::EcdsaBrainpoolP256 => (
            KeyAlgorithm::Ec(Curve::BrainpoolP256r1),
            SignatureScheme::Ecdsa,
        ),
        SignatureArg::EcdsaBrainpoolP384 => (
            KeyAlgorithm::Ec(Curve::BrainpoolP384r1),
            SignatureScheme::Ecdsa,
        ),
        SignatureArg::EcdsaBrainpoolP512 => (
            KeyAlgorithm::Ec(Curve::BrainpoolP512r1),
            SignatureScheme::Ecdsa,
        ),
    };
    if !(1024..=8192).contains(&args.rsa_bits) {
        bail!("--rsa-bits must be between 1024 and 8192");
    }
    if args.explicit_ec_params && matches!(key, KeyAlgorithm::Rsa(_)) {
        bail!("--explicit-ec-params needs an ECDSA --signature");
    }
    let digest = match args.digest {
        DigestArg::Sha1 => DigestAlgorithm::Sha1,
        DigestArg::Sha224 => DigestAlgorithm::Sha224,
        DigestArg::Sha256 => DigestAlgorithm::Sha256,
        DigestArg::Sha384 => DigestAlgorithm::Sha384,
        DigestArg::Sha512 => DigestAlgorithm::Sha512,
    };
    let aa = match args.aa {
        AaArg::Rsa1024 => Some(KeyAlgorithm::Rsa(1024)),
        AaArg::Rsa2048 => Some(KeyAlgorithm::Rsa(2048)),
        AaArg::EcP256 => Some(KeyAlgorithm::Ec(Curve::P256)),
        AaArg::EcBrainpoolP256 => Some(KeyAlgorithm::Ec(Curve::BrainpoolP256r1)),
        AaArg::None => None,
    };
    let ca = match args.ca {
        CaArg::EcP256 => Some(ChipAuthenticationKey::Ec(Curve::P256)),
        CaArg::EcBrainpoolP256 => Some(ChipAuthenticationKey::Ec(Curve::BrainpoolP256r1)),
        CaArg::EcP384 => Some(ChipAuthenticationKey::Ec(Curve::P384)),
        CaArg::EcBrainpoolP384 => Some(ChipAuthenticationKey::Ec(Curve::BrainpoolP384r1)),
        CaArg::Dh2048 => Some(ChipAuthenticationKey::Dh2048),
        CaArg::None => None,
    };
    let pace = match args.pace {
        PaceArg::P256 => Some(Curve::P256),
        PaceArg::BrainpoolP256 => Some(Curve::BrainpoolP256r1),
        PaceArg::None => None,
    };

    let mut csca = Csca::generate(&CscaOptions::new(&country, now).key(key))
        .context("generating the test CSCA")?;
    let mut ds_options =
        DocumentSignerOptions::new(key, now).explicit_ec_parameters(args.explicit_ec_params);
    ds_options = match args.ds_validity {
        DsValidity::Valid => ds_options,
        DsValidity::Expired => ds_options.expired(),
        DsValidity::NotYetValid => ds_options.not_yet_valid(),
    };
    let ds = csca
        .issue_document_signer(&ds_options)
        .context("issuing the Document Signer")?;

    let mut builder = DocumentBuilder::new(holder)
        .signature(scheme)
        .digest(digest)
        .aa_key(aa)
        .chip_authentication(ca)
        .pace(pace)
        .lds_version(if args.lds_version == 1 {
            LdsSecurityObjectVersion::V1
        } else {
            LdsSecurityObjectVersion::V0
        })
        .include_ds_certificate(!args.no_ds_in_sod)
        .chip_explicit_ec_parameters(args.chip_explicit_ec_params);
    if args.signer_key_id {
        builder = builder.signer_identifier(SignerIdentifier::SubjectKeyIdentifier);
    }
    if let Some(path) = &args.portrait {
        let jpeg = std::fs::read(path)
            .with_context(|| format!("reading the portrait {}", path.display()))?;
        builder = builder.portrait(jpeg);
    }
    let document = builder.build(&ds).context("building the document")?;
    let mut written = document
        .write_to_dir(&args.out)
        .context("writing the document")?;
    if args.crl || args.revoke_ds {
        let revoked: &[u64] = if args.revoke_ds { &[ds.serial()] } else { &[] };
        let crl = csca.crl(revoked, now).context("signing the CRL")?;
        let path = args.out.join("crl.pem");
        std::fs::write(&path, crl.to_pem()?)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }

    println!(
        "Test document written to {} (TEST ONLY, not for production):",
        args.out.display()
    );
    for line in document.mrz_lines() {
        println!("  {line}");
    }
    println!(
        "  signed with {:?} {:?} by DS serial {}, test CSCA C={country}, at {now}",
        scheme,
        digest,
        ds.serial()
    );
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    println!("  files: {}", names.join(", "));
    Ok(())
}

fn holder(args: &CreateArgs, now: OffsetDateTime) -> anyhow::Result<Holder> {
    let mut holder = Holder::specimen();
    let code = args.document_type.trim().to_uppercase();
    if code.is_empty() || code.len() > 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        bail!("--document-type must be one or two letters, e.g. P or ID");
    }
    if !code.starts_with('P') {
        let id_card = Holder::specimen_id_card();
        holder.format = MrzFormat::Td1;
        holder.sex = id_card.sex;
        holder.optional_data = id_card.optional_data;
    }
    holder.document_code = code;
    let set = |target: &mut String, value: &Option<String>| {
        if let Some(value) = value {
            *target = value.trim().to_uppercase();
        }
    };
    set(&mut holder.issuing_state, &args.issuing_state);
    set(&mut holder.nationality, &args.nationality);
    set(&mut holder.surname, &args.surname);
    set(&mut holder.given_names, &args.given_names);
    set(&mut holder.document_number, &args.document_number);
    set(&mut holder.optional_data, &args.optional_data);
    if args.issuing_state.is_some() && args.nationality.is_none() {
        holder.nationality = holder.issuing_state.clone();
    }
    if let Some(sex) = args.sex {
        holder.sex = match sex {
            SexArg::M => Sex::Male,
            SexArg::F => Sex::Female,
            SexArg::X => Sex::Unspecified,
        };
    }
    if let Some(text) = &args.date_of_birth {
        holder.date_of_birth = parse_date(text, now, false).context("--date-of-birth")?;
    }
    holder.date_of_expiry = match &args.expiry {
        Some(text) => parse_date(text, now, true).context("--expiry")?,
        None => (now + Duration::days(3652)).date() - Duration::days(1),
    };
    for code in [&holder.issuing_state, &holder.nationality] {
        if code.is_empty() || code.len() > 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            bail!("{code:?} is not an ICAO 3-letter code");
        }
    }
    holder.mrz_lines()?;
    Ok(holder)
}

/// YYYY-MM-DD, or YYMMDD: a birth year after this year's YY is in the 1900s, an expiry always 20YY.
fn parse_date(text: &str, now: OffsetDateTime, expiry: bool) -> anyhow::Result<Date> {
    let text = text.trim();
    let bad = || anyhow!("{text:?} is not a date (YYMMDD or YYYY-MM-DD)");
    let (year, month, day) = if text.len() == 10 {
        let parts: Vec<&str> = text.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        (
            y.parse::<i32>().map_err(|_| bad())?,
            m.parse::<u8>().map_err(|_| bad())?,
            d.parse::<u8>().map_err(|_| bad())?,
        )
    } else if text.len() == 6 && text.chars().all(|c| c.is_ascii_digit()) {
        let number = |range: std::ops::Range<usize>| -> anyhow::Result<u8> {
            text.get(range).and_then(|s| s.parse().ok()).ok_or_else(bad)
        };
        let yy = i32::from(number(0..2)?);
        let century = if expiry || yy <= now.year() % 100 {
            2000
        } else {
            1900
        };
        (century + yy, number(2..4)?, number(4..6)?)
    } else {
        return Err(bad());
    };
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

fn parse_now(text: &str) -> anyhow::Result<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let date = parse_date(text, OffsetDateTime::UNIX_EPOCH, true)
        .with_context(|| format!("--now {text:?}: expected YYYY-MM-DD or RFC 3339"))?;
    Ok(date.midnight().assume_utc() + Duration::hours(12))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use clap::Parser;
    use time::macros::{date, datetime};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: TestdocCommand,
    }

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    #[test]
    fn dates_in_both_notations() {
        assert_eq!(
            parse_date("2031-02-03", NOW, true).unwrap(),
            date!(2031 - 02 - 03)
        );
        assert_eq!(
            parse_date("310203", NOW, true).unwrap(),
            date!(2031 - 02 - 03)
        );
        assert_eq!(
            parse_date("740812", NOW, false).unwrap(),
            date!(1974 - 08 - 12)
        );
        assert_eq!(
            parse_date("120415", NOW, false).unwrap(),
            date!(2012 - 04 - 15)
        );
        assert!(parse_date("2026-02-30", NOW, true).is_err());
        assert!(parse_date("12/04/15", NOW, true).is_err());
        assert_eq!(parse_now("2026-11-25").unwrap(), NOW);
    }

    #[test]
    fn id_card_options_give_a_td1_holder() {
        let cli = Cli::parse_from([
            "testdoc",
            "create",
            "--out",
            "x",
            "--document-type",
            "id",
            "--issuing-state",
            "deu",
            "--surname",
            "Gößwein",
            "--sex",
            "m",
            "--expiry",
            "2030-01-31",
        ]);
        let TestdocCommand::Create(args) = cli.command;
        let holder = holder(&args, NOW).unwrap();
        assert_eq!(holder.format, MrzFormat::Td1);
        assert_eq!(holder.document_code, "ID");
        assert_eq!(holder.nationality, "DEU");
        assert_eq!(holder.sex, Sex::Male);
        let lines = holder.mrz_lines().unwrap();
        assert!(lines[2].starts_with("GOESSWEIN<<"), "{lines:?}");
        assert_eq!(&lines[1][8..14], "300131");
    }

    #[test]
    fn create_writes_every_file() {
        let out = std::env::temp_dir().join(format!("testdoc-cli-create-{}", std::process::id()));
        let cli = Cli::parse_from([
            "testdoc".as_ref(),
            "create".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "--now".as_ref(),
            "2026-11-25".as_ref(),
            "--signature".as_ref(),
            "ecdsa-brainpool-p256".as_ref(),
            "--revoke-ds".as_ref(),
        ]);
        let TestdocCommand::Create(args) = cli.command;
        run_create(args).unwrap();
        for name in [
            "COM",
            "SOD",
            "DG1",
            "DG2",
            "DG14",
            "DG15",
            "CardAccess",
            "aa_private_key.pem",
            "ca_private_key.pem",
            "csca.pem",
            "ds.pem",
            "mrz.txt",
            "crl.pem",
        ] {
            assert!(out.join(name).is_file(), "{name} missing");
        }
        let mrz = std::fs::read_to_string(out.join("mrz.txt")).unwrap();
        assert_eq!(mrz.lines().map(str::len).collect::<Vec<_>>(), [44, 44]);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
