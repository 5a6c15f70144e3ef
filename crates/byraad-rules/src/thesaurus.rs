//! The council law's vocabulary bridged to members' words (`config/thesaurus.toml`): a query
//! holding an everyday phrase is searched for the law's terms too.

use std::collections::HashSet;
use std::path::Path;

use byraad_index::analysis;
use serde::Deserialize;

use crate::terms::Terms;

/// The thesaurus shipped in `config/thesaurus.toml`, built in.
const BUILTIN: &str = include_str!("../../../config/thesaurus.toml");

/// One entry of the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The law's own terms.
    pub law: Vec<String>,
    /// How members speak of the same thing.
    pub everyday: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    entry: Vec<Entry>,
}

/// The thesaurus.
#[derive(Debug, Clone, PartialEq)]
pub struct Thesaurus {
    /// Its entries, as written.
    pub entries: Vec<Entry>,
    /// Per entry: each everyday phrase's stems, and the law terms' stems.
    compiled: Vec<(Vec<Vec<String>>, Vec<String>)>,
}

impl Thesaurus {
    /// The thesaurus built in.
    pub fn builtin() -> Result<Self, String> {
        Self::parse(BUILTIN).map_err(|e| format!("config/thesaurus.toml (built in): {e}"))
    }

    /// The thesaurus in the file at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the thesaurus {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("the thesaurus {}: {e}", path.display()))
    }

    /// The thesaurus in TOML `text`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if file.version != 1 {
            return Err(format!("version {} where 1 is read", file.version));
        }
        let stems = |text: &str| -> Vec<String> { analysis::content_words(text).iter().map(|w| analysis::stem_term(&w.lower)).collect() };
        let compiled = file
            .entry
            .iter()
            .map(|e| (e.everyday.iter().map(|p| stems(p)).filter(|s| !s.is_empty()).collect(), e.law.iter().flat_map(|l| stems(l)).collect()))
            .collect();
        Ok(Self { entries: file.entry, compiled })
    }

    /// The law's terms (stems) for the everyday phrases `query` holds, not in it already; a phrase
    /// is held when every one of its words is among the query's stems or compound parts.
    pub fn expand(&self, query: &Terms) -> Vec<String> {
        let have: HashSet<&String> = query.all().collect();
        let mut out: Vec<String> = Vec::new();
        for (phrases, law) in &self.compiled {
            if phrases.iter().any(|p| p.iter().all(|s| have.contains(s))) {
                for s in law {
                    if !have.contains(s) && !out.contains(s) {
                        out.push(s.clone());
                    }
                }
            }
        }
        out
    }

    /// The entries' law terms that `text` (a law) does not hold, for checking a thesaurus
    /// against the law it bridges.
    pub fn missing_in(&self, text: &str) -> Vec<String> {
        let flowing = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        self.entries.iter().flat_map(|e| e.law.iter()).filter(|l| !flowing.contains(&l.to_lowercase())).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terms::Vocabulary;

    #[test]
    fn every_law_term_of_the_shipped_thesaurus_is_in_the_law() {
        let law = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus/love/kommunestyrelsesloven-lbk-2026-13.md")).unwrap();
        let t = Thesaurus::builtin().unwrap();
        assert!(t.entries.len() >= 50, "an entry for each of the law's main notions");
        assert_eq!(t.missing_in(&law), Vec::<String>::new(), "law terms the law does not hold");
    }

    #[test]
    fn an_everyday_phrase_brings_the_law_terms() {
        let t = Thesaurus::parse("version = 1\n[[entry]]\nlaw = [\"stedfortræderen\"]\neveryday = [\"suppleant\", \"sætte en anden ind\"]\n").unwrap();
        let v = Vocabulary::default();
        assert_eq!(t.expand(&Terms::of("Kan vi få vores suppleant ind?", &v)), vec![analysis::stem_term("stedfortræderen")]);
        assert_eq!(t.expand(&Terms::of("Kan vi sætte en anden af vores ind?", &v)), vec![analysis::stem_term("stedfortræderen")], "the phrase's words in any order around others");
        assert!(t.expand(&Terms::of("Hvem er formand?", &v)).is_empty());
        assert!(t.expand(&Terms::of("Hvornår indkaldes stedfortræderen og suppleanten?", &v)).is_empty(), "the law's term is there already");
        assert!(Thesaurus::parse("version = 2\nentry = []").unwrap_err().contains("version"));
    }
}
