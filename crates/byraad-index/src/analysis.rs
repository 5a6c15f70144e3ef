//! Danish analysis with OCR tolerance.
//!
//! Index and query share one pipeline: words (letters and digits; an '@' that starts or sits
//! inside a word is the OCR's 'ø'), lowercased, Danish stop words dropped, stemmed with the
//! Snowball Danish stemmer, then folded (æ→ae, ø→o, å→a, aa→a, ö→o, ä→ae, é→e). Folding makes
//! "Århus" find "Aarhus" and "@konomi" find "økonomi".
//!
//! OCR damage that cannot be folded without flooding ('ø' read as 'g' — "og", "dag" — or as 'a'
//! or 'e', 'æ' read as 'ee' or 'e') is repaired at query time instead: [`ocr_variants`] spells a
//! correctly written query word the ways the OCR damaged it, and only spellings that occur in the
//! index are searched, weighted below the exact word.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name of the stemming analyzer in tantivy's tokenizer manager.
pub const DANISH: &str = "da_stem";
/// Name of the exact-form analyzer (folded, not stemmed, stop words kept).
pub const DANISH_EXACT: &str = "da_exact";
/// Name of the case-insensitive keyword analyzer.
pub const KEYWORD: &str = "keyword_lower";

/// The Snowball Danish stop words.
const STOP_WORDS: &[&str] = &[
    "og", "i", "jeg", "det", "at", "en", "den", "til", "er", "som", "på", "de", "med", "han", "af", "for",
    "ikke", "der", "var", "mig", "sig", "men", "et", "har", "om", "vi", "min", "havde", "ham", "hun", "nu",
    "over", "da", "fra", "du", "ud", "sin", "dem", "os", "op", "man", "hans", "hvor", "eller", "hvad", "skal",
    "selv", "her", "alle", "vil", "blev", "kunne", "ind", "når", "være", "dog", "noget", "ville", "jo",
    "deres", "efter", "ned", "skulle", "denne", "end", "dette", "mit", "også", "under", "have", "dig",
    "anden", "hende", "mine", "alt", "meget", "sit", "sine", "vor", "mod", "disse", "hvis", "din", "nogle",
    "hos", "blive", "mange", "ad", "bliver", "hendes", "været", "thi", "jer", "sådan",
];

/// Interrogatives: they shape a question but name nothing to find. Dropped from queries only.
const QUESTION_WORDS: &[&str] =
    &["hvilke", "hvilket", "hvilken", "hvornår", "hvordan", "hvorfor", "hvem", "hvorledes", "hvorhen"];

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Danish));

/// A word of the input with its byte offsets and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lowercased surface form, OCR '@' read as 'ø'.
    pub lower: String,
    /// Byte offsets in the input.
    pub from: usize,
    /// End byte offset.
    pub to: usize,
    /// Word position.
    pub position: usize,
}

/// Splits `text` into lowercased words. A number written with thousands separators is one
/// word without them ("2.000" is "2000"); a date in figures ("29.09.2025") stays three.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let digit = |i: usize| chars.get(i).is_some_and(|(_, c)| c.is_ascii_digit());
    // A '.' between a number and a group of exactly three digits separates thousands.
    let separator = |i: usize, start: Option<usize>| -> bool {
        start.is_some_and(|s| (s..i).all(|j| digit(j) || chars[j].1 == '.'))
            && digit(i - 1)
            && (1..=3).all(|k| digit(i + k))
            && !digit(i + 4)
    };
    let is_word = |i: usize, start: Option<usize>| -> bool {
        let (_, c) = chars[i];
        c.is_alphanumeric() || (c == '@' && chars.get(i + 1).is_some_and(|(_, n)| n.is_alphabetic())) || (c == '.' && separator(i, start))
    };
    for i in 0..=chars.len() {
        let inside = i < chars.len() && is_word(i, start);
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let from = chars[s].0;
                let to = chars.get(i).map_or(text.len(), |(b, _)| *b);
                let lower = text[from..to].to_lowercase().replace('@', "ø").replace('.', "");
                out.push(Word { lower, from, to, position: out.len() });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The words of a query that carry its content: stop words and interrogatives dropped.
pub fn content_words(text: &str) -> Vec<Word> {
    words(text).into_iter().filter(|w| !is_stop_word(&w.lower) && !is_question_word(&w.lower)).collect()
}

/// Whether `lower` is a stop word.
pub fn is_stop_word(lower: &str) -> bool {
    STOP_WORDS.contains(&lower)
}

/// Whether `lower` is a question word (dropped from queries).
pub fn is_question_word(lower: &str) -> bool {
    QUESTION_WORDS.contains(&lower)
}

/// Folds Danish letters to ASCII-ish forms: æ→ae, ø→o, å→a, aa→a.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut prev_a = false;
    for c in word.chars() {
        match c {
            'æ' | 'ä' => out.push_str("ae"),
            'ø' | 'ö' | 'ó' | 'ò' => out.push('o'),
            'å' | 'á' | 'à' | 'â' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'ü' | 'ú' => out.push('u'),
            'í' | 'ï' => out.push('i'),
            'a' if prev_a => {}
            c => out.push(c),
        }
        prev_a = c == 'a' && !prev_a;
    }
    out
}

/// The indexed term of a lowercased word: stemmed, then folded.
pub fn stem_term(lower: &str) -> String {
    // The stemmer knows Danish spelling; "aa" is the old spelling of "å".
    let spelled = lower.replace("aa", "å");
    fold(&STEMMER.stem(&spelled))
}

/// The exact-form term of a lowercased word: folded only.
pub fn exact_term(lower: &str) -> String {
    fold(lower)
}

/// Spellings of a correctly written word as OCR damaged it: 'ø' read as 'g', 'a' or 'e';
/// 'æ' read as 'ee', 'e' or 'a'. At most two letters are damaged in one spelling, and the word
/// itself is not among them. Words without æ/ø have none.
pub fn ocr_variants(lower: &str) -> Vec<String> {
    const OE: &[&str] = &["g", "a", "e"];
    const AE: &[&str] = &["ee", "e", "a"];
    let chars: Vec<char> = lower.chars().collect();
    if chars.len() < 3 {
        return Vec::new();
    }
    let sites: Vec<(usize, &[&str])> = chars
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            'ø' => Some((i, OE)),
            'æ' => Some((i, AE)),
            _ => None,
        })
        .collect();
    let mut out = BTreeSet::new();
    let spell = |subs: &[(usize, &str)]| -> String {
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| subs.iter().find(|(j, _)| *j == i).map_or_else(|| c.to_string(), |(_, s)| (*s).to_string()))
            .collect()
    };
    for (a, (i, options_i)) in sites.iter().enumerate() {
        for oi in options_i.iter() {
            out.insert(spell(&[(*i, oi)]));
            for (j, options_j) in sites.iter().skip(a + 1) {
                for oj in options_j.iter() {
                    out.insert(spell(&[(*i, oi), (*j, oj)]));
                }
            }
        }
    }
    // One damaged letter throughout, for words with many ø/æ.
    if sites.len() > 2 {
        for o in OE {
            out.insert(lower.replace('ø', o));
        }
    }
    out.remove(lower);
    out.into_iter().collect()
}

/// A tantivy tokenizer running one of the analysis pipelines.
#[derive(Debug, Clone, Copy)]
pub struct DanishTokenizer {
    stem: bool,
}

impl DanishTokenizer {
    /// Stemming, stop words dropped: the main text fields.
    pub fn stemming() -> Self {
        Self { stem: true }
    }

    /// Folded exact forms, every word kept.
    pub fn exact() -> Self {
        Self { stem: false }
    }

    /// The tokens of `text`. A compound written with a hyphen ("system-angst") also yields the
    /// joined word ("systemangst") at the first part's position, so either spelling finds it.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let words = words(text);
        let term = |lower: &str| if self.stem { stem_term(lower) } else { exact_term(lower) };
        let mut out = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if !(self.stem && is_stop_word(&w.lower)) {
                out.push(Token { offset_from: w.from, offset_to: w.to, position: w.position, text: term(&w.lower), position_length: 1 });
            }
            if let Some(next) = words.get(i + 1)
                && text.get(w.to..next.from) == Some("-")
                && w.lower.chars().all(char::is_alphabetic)
                && next.lower.chars().next().is_some_and(char::is_lowercase)
            {
                let joined = format!("{}{}", w.lower, next.lower);
                out.push(Token { offset_from: w.from, offset_to: next.to, position: w.position, text: term(&joined), position_length: 2 });
            }
        }
        out
    }
}

/// Tokens computed up front.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for DanishTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream { tokens: self.tokens(text), next: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        DanishTokenizer::stemming().tokens(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folding_joins_spellings() {
        assert_eq!(terms("Århus"), terms("Aarhus"));
        assert_eq!(terms("økonomi"), terms("@konomi"));
        assert_eq!(terms("Byråd"), terms("Byrad"));
        assert_eq!(terms("betænkning"), terms("betaenkning"));
    }

    #[test]
    fn stemming_joins_inflections() {
        assert_eq!(terms("anbefalinger"), terms("anbefalingerne"));
        assert_eq!(terms("forslaget"), terms("forslag"));
        assert!(terms("og det er på").is_empty(), "stop words are dropped");
    }

    /// Real pairs from the corpus: the correct word and the OCR's reading of it.
    #[test]
    fn ocr_variants_reach_the_damaged_words_of_the_corpus() {
        let pairs = [
            ("økonomi", "gkonomi"),
            ("mødedato", "mgdedato"),
            ("mødedato", "madedato"),
            ("betænkning", "beteenkning"),
            ("første", "farste"),
            ("hjemløse", "hjemlgse"),
            ("forsørgelsesudgifter", "forsgrgelsesudgifter"),
            ("søndervang", "sendervang"),
            ("præsentation", "prasentation"),
            ("undersøgelsen", "undersggelsen"),
        ];
        for (good, damaged) in pairs {
            let want = stem_term(damaged);
            let got: Vec<String> = ocr_variants(good).iter().map(|v| stem_term(v)).collect();
            assert!(got.contains(&want), "{good} should reach {damaged} ({want}); got {got:?}");
        }
    }

    #[test]
    fn words_without_danish_letters_are_not_varied() {
        assert!(ocr_variants("og").is_empty());
        assert!(ocr_variants("dag").is_empty());
        assert!(ocr_variants("budget").is_empty());
        assert!(!ocr_variants("dør").iter().any(|v| v == "dør"));
    }

    #[test]
    fn thousands_separators_join_a_number() {
        let lower = |text: &str| words(text).into_iter().map(|w| w.lower).collect::<Vec<_>>();
        assert_eq!(lower("ca. 2.000 deltagere"), ["ca", "2000", "deltagere"]);
        assert_eq!(lower("1.250.000 kr."), ["1250000", "kr"]);
        assert_eq!(terms("omkring 2.000"), terms("omkring 2000"));
        let w = &words("fra 15.000 kr.")[1];
        assert_eq!((w.from, w.to), (4, 10), "the word spans the number as written");
        assert_eq!(lower("den 29.09.2025"), ["den", "29", "09", "2025"], "a date is not a number");
        assert_eq!(lower("3,25 mio. og 2.5 og 1.0000"), ["3", "25", "mio", "og", "2", "5", "og", "1", "0000"]);
        assert_eq!(lower("punkt 2. Næste"), ["punkt", "2", "næste"]);
    }

    #[test]
    fn hyphenated_compounds_also_index_joined() {
        let t = terms("drøftelse af system-angst");
        assert!(t.contains(&stem_term("systemangst")), "{t:?}");
        assert!(t.contains(&stem_term("angst")), "{t:?}");
        assert!(!terms("Social- og Beskæftigelse").contains(&stem_term("socialog")));
    }

    #[test]
    fn at_sign_is_oe_only_inside_words() {
        let w: Vec<_> = words("@nsker mail@aarhus.dk @ 5").into_iter().map(|w| w.lower).collect();
        // Inside a word it is read as ø too: an e-mail address stays one word, found as a whole.
        assert_eq!(w, vec!["ønsker", "mailøaarhus", "dk", "5"]);
    }
}
