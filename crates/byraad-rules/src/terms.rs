//! Words of rules text and of members' questions as the rules look-up matches them: stems, and
//! the parts of compounds ("beslutningsprotokol" → "beslutning" + "protokol") that the law's own
//! vocabulary knows.

use std::collections::{HashMap, HashSet};

use byraad_index::analysis;

/// Shortest part of a compound, in characters.
const PART_MIN: usize = 4;

/// The words a compound may be split into: every content word of the rules texts (lower case),
/// at least [`PART_MIN`] characters long, and by their stems (each word stemmed once), so that
/// asking whether a part is known never reads the whole vocabulary.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    words: HashSet<String>,
    by_stem: HashMap<String, Vec<String>>,
}

impl Vocabulary {
    /// The vocabulary of `texts`.
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut words = HashSet::new();
        for text in texts {
            for w in analysis::content_words(text) {
                if w.lower.chars().count() >= PART_MIN && w.lower.chars().all(char::is_alphabetic) {
                    words.insert(w.lower);
                }
            }
        }
        let mut by_stem: HashMap<String, Vec<String>> = HashMap::new();
        for w in &words {
            by_stem.entry(analysis::stem_term(w)).or_default().push(w.clone());
        }
        Self { words, by_stem }
    }

    /// The stems of the two parts of `word` (lower case) when it is a compound of two known words
    /// ("kommunalbestyrelsesmedlem" → "kommunalbestyr", "medlem"), joined directly or by a
    /// linking "s" or "e"; the split with the longest first part wins. None otherwise.
    pub fn parts(&self, word: &str) -> Option<[String; 2]> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 * PART_MIN {
            return None;
        }
        for cut in (PART_MIN..=chars.len() - PART_MIN).rev() {
            let first: String = chars[..cut].iter().collect();
            if !self.known(&first) {
                continue;
            }
            let rest: String = chars[cut..].iter().collect();
            let second = [rest.as_str(), rest.strip_prefix('s').unwrap_or(""), rest.strip_prefix('e').unwrap_or("")]
                .into_iter()
                .find(|r| r.chars().count() >= PART_MIN && self.known(r));
            if let Some(second) = second {
                return Some([analysis::stem_term(&first), analysis::stem_term(second)]);
            }
        }
        None
    }

    /// Whether `word` is a known word or an inflection of one (its stem is a known word's stem).
    fn known(&self, word: &str) -> bool {
        self.words.contains(word) || {
            let stem = analysis::stem_term(word);
            stem.chars().count() >= PART_MIN && self.by_stem.get(&stem).is_some_and(|same| same.iter().any(|w| w.starts_with(word)))
        }
    }
}

/// A text's terms: the stems of its content words, and the stems of the parts of its compounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    /// Stems of the words as written.
    pub stems: Vec<String>,
    /// Stems of compound parts not among `stems`.
    pub parts: Vec<String>,
}

impl Terms {
    /// The terms of `text`.
    pub fn of(text: &str, vocabulary: &Vocabulary) -> Self {
        let mut stems = Vec::new();
        let mut parts = Vec::new();
        for w in analysis::content_words(text) {
            stems.push(analysis::stem_term(&w.lower));
            if let Some(split) = vocabulary.parts(&w.lower) {
                parts.extend(split);
            }
        }
        let own: HashSet<&String> = stems.iter().collect();
        let parts = parts.into_iter().filter(|p| !own.contains(p)).collect();
        Self { stems, parts }
    }

    /// Stems and parts together.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.stems.iter().chain(&self.parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::of(["Beslutningen indføres i protokollen. Et medlem af kommunalbestyrelsen. Mødet og behandling af sagen."])
    }

    #[test]
    fn compounds_split_into_words_the_vocabulary_knows() {
        let v = vocabulary();
        assert_eq!(v.parts("beslutningsprotokol"), Some([analysis::stem_term("beslutning"), analysis::stem_term("protokol")]));
        assert_eq!(v.parts("kommunalbestyrelsesmedlem"), Some([analysis::stem_term("kommunalbestyrelse"), analysis::stem_term("medlem")]));
        assert_eq!(v.parts("byrådsmøde"), None, "'byråd' is not the law's word");
        assert_eq!(v.parts("medlem"), None, "too short to be two words");
    }

    #[test]
    fn terms_hold_stems_and_the_parts_of_compounds() {
        let t = Terms::of("Hvad står der i beslutningsprotokollen om medlemmet?", &vocabulary());
        assert!(t.stems.contains(&analysis::stem_term("medlemmet")));
        assert!(t.parts.contains(&analysis::stem_term("protokol")), "{t:?}");
        assert!(!t.parts.contains(&analysis::stem_term("medlem")), "a part the text holds as a word is not repeated");
    }
}
