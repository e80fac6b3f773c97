//! Country codes of the MRZ (ICAO 9303 Part 3 §5) and their ISO 3166-1 alpha-2 equivalents, which
//! the API reports ("Countries are denominated by two-letter ISO 3166 codes").
//!
//! The MRZ uses ISO 3166-1 alpha-3 codes, plus codes ICAO defines for itself (Part 3 §5, Tables
//! 1–4). Each of those is mapped below, and the choice is explained where it is made.

/// ISO 3166-1 alpha-3 → alpha-2 for the 249 officially assigned codes, sorted by alpha-3.
const ISO3166: &[(&str, &str)] = &[
    ("ABW", "AW"),
    ("AFG", "AF"),
    ("AGO", "AO"),
    ("AIA", "AI"),
    ("ALA", "AX"),
    ("ALB", "AL"),
    ("AND", "AD"),
    ("ARE", "AE"),
    ("ARG", "AR"),
    ("ARM", "AM"),
    ("ASM", "AS"),
    ("ATA", "AQ"),
    ("ATF", "TF"),
    ("ATG", "AG"),
    ("AUS", "AU"),
    ("AUT", "AT"),
    ("AZE", "AZ"),
    ("BDI", "BI"),
    ("BEL", "BE"),
    ("BEN", "BJ"),
    ("BES", "BQ"),
    ("BFA", "BF"),
    ("BGD", "BD"),
    ("BGR", "BG"),
    ("BHR", "BH"),
    ("BHS", "BS"),
    ("BIH", "BA"),
    ("BLM", "BL"),
    ("BLR", "BY"),
    ("BLZ", "BZ"),
    ("BMU", "BM"),
    ("BOL", "BO"),
    ("BRA", "BR"),
    ("BRB", "BB"),
    ("BRN", "BN"),
    ("BTN", "BT"),
    ("BVT", "BV"),
    ("BWA", "BW"),
    ("CAF", "CF"),
    ("CAN", "CA"),
    ("CCK", "CC"),
    ("CHE", "CH"),
    ("CHL", "CL"),
    ("CHN", "CN"),
    ("CIV", "CI"),
    ("CMR", "CM"),
    ("COD", "CD"),
    ("COG", "CG"),
    ("COK", "CK"),
    ("COL", "CO"),
    ("COM", "KM"),
    ("CPV", "CV"),
    ("CRI", "CR"),
    ("CUB", "CU"),
    ("CUW", "CW"),
    ("CXR", "CX"),
    ("CYM", "KY"),
    ("CYP", "CY"),
    ("CZE", "CZ"),
    ("DEU", "DE"),
    ("DJI", "DJ"),
    ("DMA", "DM"),
    ("DNK", "DK"),
    ("DOM", "DO"),
    ("DZA", "DZ"),
    ("ECU", "EC"),
    ("EGY", "EG"),
    ("ERI", "ER"),
    ("ESH", "EH"),
    ("ESP", "ES"),
    ("EST", "EE"),
    ("ETH", "ET"),
    ("FIN", "FI"),
    ("FJI", "FJ"),
    ("FLK", "FK"),
    ("FRA", "FR"),
    ("FRO", "FO"),
    ("FSM", "FM"),
    ("GAB", "GA"),
    ("GBR", "GB"),
    ("GEO", "GE"),
    ("GGY", "GG"),
    ("GHA", "GH"),
    ("GIB", "GI"),
    ("GIN", "GN"),
    ("GLP", "GP"),
    ("GMB", "GM"),
    ("GNB", "GW"),
    ("GNQ", "GQ"),
    ("GRC", "GR"),
    ("GRD", "GD"),
    ("GRL", "GL"),
    ("GTM", "GT"),
    ("GUF", "GF"),
    ("GUM", "GU"),
    ("GUY", "GY"),
    ("HKG", "HK"),
    ("HMD", "HM"),
    ("HND", "HN"),
    ("HRV", "HR"),
    ("HTI", "HT"),
    ("HUN", "HU"),
    ("IDN", "ID"),
    ("IMN", "IM"),
    ("IND", "IN"),
    ("IOT", "IO"),
    ("IRL", "IE"),
    ("IRN", "IR"),
    ("IRQ", "IQ"),
    ("ISL", "IS"),
    ("ISR", "IL"),
    ("ITA", "IT"),
    ("JAM", "JM"),
    ("JEY", "JE"),
    ("JOR", "JO"),
    ("JPN", "JP"),
    ("KAZ", "KZ"),
    ("KEN", "KE"),
    ("KGZ", "KG"),
    ("KHM", "KH"),
    ("KIR", "KI"),
    ("KNA", "KN"),
    ("KOR", "KR"),
    ("KWT", "KW"),
    ("LAO", "LA"),
    ("LBN", "LB"),
    ("LBR", "LR"),
    ("LBY", "LY"),
    ("LCA", "LC"),
    ("LIE", "LI"),
    ("LKA", "LK"),
    ("LSO", "LS"),
    ("LTU", "LT"),
    ("LUX", "LU"),
    ("LVA", "LV"),
    ("MAC", "MO"),
    ("MAF", "MF"),
    ("MAR", "MA"),
    ("MCO", "MC"),
    ("MDA", "MD"),
    ("MDG", "MG"),
    ("MDV", "MV"),
    ("MEX", "MX"),
    ("MHL", "MH"),
    ("MKD", "MK"),
    ("MLI", "ML"),
    ("MLT", "MT"),
    ("MMR", "MM"),
    ("MNE", "ME"),
    ("MNG", "MN"),
    ("MNP", "MP"),
    ("MOZ", "MZ"),
    ("MRT", "MR"),
    ("MSR", "MS"),
    ("MTQ", "MQ"),
    ("MUS", "MU"),
    ("MWI", "MW"),
    ("MYS", "MY"),
    ("MYT", "YT"),
    ("NAM", "NA"),
    ("NCL", "NC"),
    ("NER", "NE"),
    ("NFK", "NF"),
    ("NGA", "NG"),
    ("NIC", "NI"),
    ("NIU", "NU"),
    ("NLD", "NL"),
    ("NOR", "NO"),
    ("NPL", "NP"),
    ("NRU", "NR"),
    ("NZL", "NZ"),
    ("OMN", "OM"),
    ("PAK", "PK"),
    ("PAN", "PA"),
    ("PCN", "PN"),
    ("PER", "PE"),
    ("PHL", "PH"),
    ("PLW", "PW"),
    ("PNG", "PG"),
    ("POL", "PL"),
    ("PRI", "PR"),
    ("PRK", "KP"),
    ("PRT", "PT"),
    ("PRY", "PY"),
    ("PSE", "PS"),
    ("PYF", "PF"),
    ("QAT", "QA"),
    ("REU", "RE"),
    ("ROU", "RO"),
    ("RUS", "RU"),
    ("RWA", "RW"),
    ("SAU", "SA"),
    ("SDN", "SD"),
    ("SEN", "SN"),
    ("SGP", "SG"),
    ("SGS", "GS"),
    ("SHN", "SH"),
    ("SJM", "SJ"),
    ("SLB", "SB"),
    ("SLE", "SL"),
    ("SLV", "SV"),
    ("SMR", "SM"),
    ("SOM", "SO"),
    ("SPM", "PM"),
    ("SRB", "RS"),
    ("SSD", "SS"),
    ("STP", "ST"),
    ("SUR", "SR"),
    ("SVK", "SK"),
    ("SVN", "SI"),
    ("SWE", "SE"),
    ("SWZ", "SZ"),
    ("SXM", "SX"),
    ("SYC", "SC"),
    ("SYR", "SY"),
    ("TCA", "TC"),
    ("TCD", "TD"),
    ("TGO", "TG"),
    ("THA", "TH"),
    ("TJK", "TJ"),
    ("TKL", "TK"),
    ("TKM", "TM"),
    ("TLS", "TL"),
    ("TON", "TO"),
    ("TTO", "TT"),
    ("TUN", "TN"),
    ("TUR", "TR"),
    ("TUV", "TV"),
    ("TWN", "TW"),
    ("TZA", "TZ"),
    ("UGA", "UG"),
    ("UKR", "UA"),
    ("UMI", "UM"),
    ("URY", "UY"),
    ("USA", "US"),
    ("UZB", "UZ"),
    ("VAT", "VA"),
    ("VCT", "VC"),
    ("VEN", "VE"),
    ("VGB", "VG"),
    ("VIR", "VI"),
    ("VNM", "VN"),
    ("VUT", "VU"),
    ("WLF", "WF"),
    ("WSM", "WS"),
    ("YEM", "YE"),
    ("ZAF", "ZA"),
    ("ZMB", "ZM"),
    ("ZWE", "ZW"),
];

/// ICAO codes with an alpha-2 answer; see [`alpha2_from_mrz_code`] for why each is mapped.
const ICAO_SPECIAL: &[(&str, &str)] = &[
    ("D", "DE"),
    ("EUE", "EU"),
    ("GBD", "GB"),
    ("GBN", "GB"),
    ("GBO", "GB"),
    ("GBP", "GB"),
    ("GBS", "GB"),
    ("RKS", "XK"),
    ("UNK", "XK"),
];

/// The ISO 3166-1 alpha-2 code for an MRZ nationality or issuing-state code (trailing fillers
/// ignored: `D<<` is `D`), or `None` when the code has no alpha-2 equivalent.
///
/// ISO 3166-1 alpha-3 codes map to their alpha-2 code. The codes of ICAO 9303 Part 3 §5 that are
/// not ISO 3166-1 alpha-3 get these answers:
///
/// * `D` — Germany, the one code of ICAO 9303 Part 3 with a single letter: `DE`.
/// * `GBD` (British Overseas Territories Citizen), `GBN` (British National (Overseas)), `GBO`
///   (British Overseas Citizen), `GBP` (British Protected Person), `GBS` (British Subject): classes
///   of British nationality, all documents of the United Kingdom: `GB`.
/// * `EUE` — European Union (laissez-passer): `EU`, the ISO 3166-1 code exceptionally reserved for
///   the Union, the answer a relying party can match on.
/// * `UNK` — resident of Kosovo, travel document issued by UNMIK; `RKS` — Kosovo's own code used
///   in its documents: `XK`, the user-assigned code that the European Commission and most
///   registries use for Kosovo (ISO 3166 has no official one).
/// * No alpha-2 exists, and the answer is `None` (JSON `null`, the raw code stays in
///   [`crate::mrz::Mrz`]): `UNO` and `UNA` (United Nations and its specialized agencies), `XOM`
///   (Sovereign Military Order of Malta), `XPO` (Interpol), `XCC`, `XCE`, `XCO`, `XDC`, `XEC`,
///   `XES`, `XIM`, `XBA` and the other `X..` codes of organisations, `XXA` (stateless),
///   `XXB` and `XXC` (refugees), `XXX` (unspecified nationality), `UTO` (Utopia, the specimen
///   state of ICAO 9303), and every code this table does not know.
pub fn alpha2_from_mrz_code(code: &str) -> Option<&'static str> {
    let code = code.trim_end_matches('<');
    if let Some((_, alpha2)) = ICAO_SPECIAL.iter().find(|(c, _)| *c == code) {
        return Some(alpha2);
    }
    ISO3166
        .binary_search_by(|(alpha3, _)| (*alpha3).cmp(code))
        .ok()
        .and_then(|i| ISO3166.get(i))
        .map(|(_, alpha2)| *alpha2)
}

/// What an ICAO code without an ISO 3166 alpha-2 designates (ICAO 9303 Part 3 §5), for display.
pub fn special_code_description(code: &str) -> Option<&'static str> {
    Some(match code.trim_end_matches('<') {
        "UNO" => "United Nations Organization or one of its officials",
        "UNA" => "specialized agency of the United Nations or one of its officials",
        "UNK" => "resident of Kosovo to whom a travel document has been issued by UNMIK",
        "XOM" => "Sovereign Military Order of Malta or one of its emissaries",
        "XPO" => "International Criminal Police Organization (INTERPOL)",
        "XXA" => "stateless person (1954 Convention)",
        "XXB" => "refugee (1951 Convention or 1967 Protocol)",
        "XXC" => "refugee (other than XXB)",
        "XXX" => "person of unspecified nationality",
        "EUE" => "European Union",
        "UTO" => "Utopia (ICAO specimen state)",
        "GBD" => "British Overseas Territories Citizen",
        "GBN" => "British National (Overseas)",
        "GBO" => "British Overseas Citizen",
        "GBP" => "British Protected Person",
        "GBS" => "British Subject",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ISO3166.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(ISO3166.len(), 249);
    }

    #[test]
    fn special_and_ordinary_codes() {
        assert_eq!(alpha2_from_mrz_code("D<<"), Some("DE"));
        assert_eq!(alpha2_from_mrz_code("D"), Some("DE"));
        assert_eq!(alpha2_from_mrz_code("NLD"), Some("NL"));
        assert_eq!(alpha2_from_mrz_code("GBN"), Some("GB"));
        assert_eq!(alpha2_from_mrz_code("EUE"), Some("EU"));
        assert_eq!(alpha2_from_mrz_code("UNK"), Some("XK"));
        for none in [
            "UTO", "XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "XOM", "", "<<<", "ZZZ",
        ] {
            assert_eq!(alpha2_from_mrz_code(none), None, "{none}");
        }
    }
}
