//! The restricted-documents fixture of the access tests: a small corpus whose restricted
//! documents hold distinctive secrets, four principals with bearer tokens, and a server that
//! requires authentication.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;

use sha2::Digest;

use super::{Server, byraad, stderr};

pub const MANIFEST: &str = r#"
[[document]]
path = "offentlig.txt"
title = "Referat, Teknisk Udvalg 1. oktober 2025"
kind = "referat"
body = "Teknisk Udvalg"
date = "2025-10-01"

[[document]]
path = "k7-sag.txt"
title = "Lukket punkt: Køb af ejendommen Kattesundet 7"
kind = "dagsorden"
body = "Magistraten"
date = "2025-10-06"
access = "restricted"
groups = ["magistraten"]

[[document]]
path = "notat.md"
title = "Notat om Solsikkeplanen"
kind = "notat"
body = "Borgmesterens Afdeling"

[[document]]
path = "intern-fo.md"
title = "Intern forretningsorden for Magistraten"
kind = "haandbog"
body = "Magistraten"
access = "restricted"
groups = ["magistraten"]

[[document]]
path = "lov.md"
title = "Uddrag af kommunestyrelsesloven"
kind = "lov"
body = "Folketinget"
"#;

pub const PUBLIC: &str = "Punkt 1: Ejendomme i Midtbyen\nUdvalget drøftede kommunens ejendomme i Midtbyen, herunder vedligeholdelse af Rådhuset og salg af mindre grunde.\n\nPunkt 2: Cykelstier på Randersvej\nUdvalget besluttede at anlægge nye cykelstier langs Randersvej for 12 mio. kr.\n";

pub const SECRET: &str = "Punkt 1: Køb af ejendommen Kattesundet 7\nEMN-2025-099999\nMagistraten indstiller, at kommunen køber ejendommen Kattesundet 7 for 47,3 mio. kr. Forhandlingerne føres under kodenavnet Zebrafinke. Sælger er ikke orienteret om kommunens øvrige planer for karréen.\n";

/// Restricted by its own front matter, not by the manifest.
pub const NOTE: &str = "---\naccess: restricted\ngroups: [byraadet]\n---\n# Notat om Solsikkeplanen\n\nSolsikkeplanen flytter 40 arbejdspladser fra Rådhuset til Gellerup i 2027.\n";

pub const RULES: &str = "# Kapitel 1\n\n## § 1\n§ 1. Magistratens lukkede drøftelser om ejendomskøb under kodenavnet Zebrafinke refereres ikke.\n\nStk. 2. Referatet af lukkede drøftelser udsendes alene til Magistratens medlemmer.\n";

pub const LAW: &str = "# Kapitel I\n\n## § 1\n§ 1. Kommunens anliggender styres af en kommunalbestyrelse.\n\n## § 8\n§ 8. Kommunalbestyrelsens møder er offentlige.\n\nStk. 2. Dagsordenen udsendes til medlemmerne senest 4 dage før mødet.\n";

/// What a principal without the group "magistraten" must never see, in any response.
pub const MAGISTRATEN_SECRETS: [&str; 7] = ["Zebrafinke", "Kattesundet", "47,3", "099999", "k7-sag", "intern-fo", "karré"];
/// What a principal without the group "byraadet" must never see.
pub const BYRAADET_SECRETS: [&str; 3] = ["Solsikkeplanen", "Gellerup", "\"notat\""];

/// Principals: name, token, groups.
pub const PRINCIPALS: [(&str, &str, &[&str]); 5] = [
    ("medlem", "tok-medlem-7f3a", &["byraadet", "parti:sf"]),
    ("kollega", "tok-kollega-21c9", &["byraadet", "parti:sf"]),
    ("anden", "tok-anden-88d0", &["parti:v"]),
    ("magistrat", "tok-magistrat-5be2", &["magistraten"]),
    // A member of the Magistrat from the same party as "medlem" and "kollega".
    ("raadmand", "tok-raadmand-3d1e", &["magistraten", "parti:sf"]),
];

pub fn token(name: &str) -> &'static str {
    PRINCIPALS.iter().find(|p| p.0 == name).unwrap().1
}

pub fn corpus() -> tempfile::TempDir {
    super::write_corpus(&[("manifest.toml", MANIFEST), ("offentlig.txt", PUBLIC), ("k7-sag.txt", SECRET), ("notat.md", NOTE), ("intern-fo.md", RULES), ("lov.md", LAW)])
}

/// The configuration file: authentication required, the four tokens by their hashes, plus
/// `extra` TOML.
pub fn config_file(dir: &Path, extra: &str) -> std::path::PathBuf {
    config_file_with(dir, true, extra)
}

/// The configuration file: authentication `required` or not, the four tokens by their hashes,
/// plus `extra` TOML.
pub fn config_file_with(dir: &Path, required: bool, extra: &str) -> std::path::PathBuf {
    let mut text = format!("[auth]\nrequired = {required}\n");
    text.push_str(extra);
    for (name, token, groups) in PRINCIPALS {
        let groups: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
        text.push_str(&format!("\n[[auth.tokens]]\nname = {name:?}\nsha256 = \"{}\"\ngroups = [{}]\n", hex::encode(sha2::Sha256::digest(token.as_bytes())), groups.join(", ")));
    }
    let path = dir.join("byraad.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `corpus` ingested into a new data directory, lexical only.
pub fn ingested(corpus: &Path) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    data
}

/// A server on the fixture, with what it reads from.
pub struct Setup {
    pub server: Server,
    pub _corpus: tempfile::TempDir,
    pub _config: tempfile::TempDir,
}

/// Ingests the fixture and serves it, authentication required.
pub fn start() -> Setup {
    start_with(true, "")
}

/// Ingests the fixture and serves it, authentication `required` or not, with `extra` TOML.
pub fn start_with(required: bool, extra: &str) -> Setup {
    let corpus = corpus();
    let data = ingested(corpus.path());
    let config = tempfile::tempdir().unwrap();
    let file = config_file_with(config.path(), required, extra);
    let server = Server::start_args(data, &["--config", file.to_str().unwrap()], &[]);
    Setup { server, _corpus: corpus, _config: config }
}

