//! What a question asks: its content words weighted by how rare they are in the archive, which
//! of them are names, and the kind of fact it asks for; and a follow-up made to stand alone.

use std::collections::HashSet;

use byraad_core::{ChatRequest, ChatRole};
use byraad_index::analysis::{self, Word};

/// A content word of the question.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Its stemmed forms: the word's own first, then its OCR-damaged spellings'.
    pub stems: Vec<String>,
    /// Its idf among the passages the asker may read.
    pub weight: f32,
    /// Whether it is written as a name (capitalised, not opening the question).
    pub name: bool,
}

/// The kind of fact a question asks for, read from its interrogative and key words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// "hvad koster", "hvor mange penge", "hvor stort et tilskud": an amount of money.
    Money,
    /// "hvor mange", "hvor meget", "hvor stor": a count, a quantity, a share.
    Amount,
    /// "hvornår": a date, a period, a deadline.
    When,
    /// "hvem", "hvad hedder": a person, a body, a name.
    Who,
    /// "hvilke partier": parties.
    Party,
    /// How members voted.
    Vote,
    /// "hvorfor": a reason.
    Why,
    /// What was decided or agreed.
    Decision,
    /// Anything else.
    Other,
}

impl Asked {
    /// The kind of fact `question` asks for.
    pub fn of(question: &str) -> Self {
        let q = question.to_lowercase();
        let has = |phrases: &[&str]| phrases.iter().any(|p| q.contains(p));
        if has(&["hvilke partier", "hvilket parti", "hvilke af partierne", "hvilken byrådsgruppe", "hvilke byrådsgrupper"]) {
            Self::Party
        } else if has(&["stemte", "fordelte", "forbehold", "tiltræde", "tiltrådte", "stemmer imod"]) {
            Self::Vote
        } else if has(&["koste", "penge", "kroner", "kr.", "beløb", "tilskud", "udgift", "bevilling", "budget", "pris", "løn", "honorar", "vederlag"])
            && has(&["hvor mange", "hvor meget", "hvor stor", "hvad ", "hvilket", "hvilken"])
        {
            Self::Money
        } else if has(&["hvor mange", "hvor meget", "hvor stor", "andel", "procent"]) {
            Self::Amount
        } else if has(&["hvornår", "hvilken dato", "på hvilken dag", "frist"]) {
            Self::When
        } else if has(&["hvorfor"]) {
            Self::Why
        } else if has(&["hvem ", "hvad hedder", "hvad hed ", "hvad kaldes", "hvad er navnet", "hvilket navn"]) {
            Self::Who
        } else if has(&["besluttede", "besluttet", "vedtog", "udfald", "beslutning", "enig"]) {
            Self::Decision
        } else {
            Self::Other
        }
    }
}

/// A question, analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// As asked.
    pub text: String,
    /// Its content words, each once.
    pub terms: Vec<Term>,
    /// The kind of fact asked for.
    pub asked: Asked,
    /// All its words, lower case: a fact the question gives itself does not answer it.
    pub words: HashSet<String>,
}

impl Question {
    /// `text` analysed; `idf` weighs stems (the passages' document frequencies).
    pub fn new<E>(text: &str, idf: impl FnOnce(&[String]) -> Result<Vec<f32>, E>) -> Result<Self, E> {
        let mut terms = content_terms(text);
        let heads: Vec<String> = terms.iter().map(|t| t.stems[0].clone()).collect();
        for (t, w) in terms.iter_mut().zip(idf(&heads)?) {
            t.weight = w;
        }
        Ok(Self { text: text.to_string(), terms, asked: Asked::of(text), words: analysis::words(text).into_iter().map(|w| w.lower).collect() })
    }

    /// The question's whole weight.
    pub fn total(&self) -> f32 {
        self.terms.iter().map(|t| t.weight).sum()
    }
}

/// The content words of `text`, each once, weighing 1.
pub fn content_terms(text: &str) -> Vec<Term> {
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    for w in analysis::content_words(text) {
        let stem = analysis::stem_term(&w.lower);
        if !seen.insert(stem.clone()) {
            continue;
        }
        let mut stems = vec![stem];
        stems.extend(analysis::ocr_variants(&w.lower).iter().map(|v| analysis::stem_term(v)));
        terms.push(Term { stems, weight: 1.0, name: named(text, &w) });
    }
    terms
}

/// Whether `word` of `text` is written as a name: capitalised, not opening a sentence.
pub fn named(text: &str, word: &Word) -> bool {
    let opens = text[..word.from].trim_end().chars().last().is_none_or(|c| matches!(c, '.' | '?' | '!' | ':'));
    !opens && capitalised(text, word)
}

/// Whether `word` of `text` is written with a capital letter.
pub fn capitalised(text: &str, word: &Word) -> bool {
    text[word.from..word.to].chars().next().is_some_and(char::is_uppercase)
}

/// Content words a question needs to stand alone; fewer, and it is read as a follow-up.
const STANDALONE_WORDS: usize = 4;

/// The question as a standalone query. A follow-up ("og hvad besluttede udvalget så?") names
/// too little to search on: it is completed with the content words of the member's earlier
/// questions, most recent first, until it has enough (or they run out). The filters of the
/// request apply to every turn.
pub fn standalone(req: &ChatRequest) -> String {
    let content = |text: &str| -> Vec<String> { analysis::content_words(text).into_iter().map(|w| text[w.from..w.to].to_string()).collect() };
    let question = req.question_text().to_string();
    let mut have = content(&question);
    if have.len() >= STANDALONE_WORDS {
        return question;
    }
    let mut extra: Vec<String> = Vec::new();
    for m in req.messages.iter().rev().skip(1).filter(|m| m.role == ChatRole::User) {
        for w in content(&m.content) {
            let lower = w.to_lowercase();
            if !have.iter().any(|h| h.to_lowercase() == lower) {
                have.push(w.clone());
                extra.push(w);
            }
        }
        if have.len() >= STANDALONE_WORDS {
            break;
        }
    }
    if extra.is_empty() { question } else { format!("{question} {}", extra.join(" ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use byraad_core::Message;

    fn conversation(turns: &[(ChatRole, &str)]) -> ChatRequest {
        ChatRequest { messages: turns.iter().map(|(role, c)| Message { role: *role, content: (*c).to_string() }).collect(), ..ChatRequest::default() }
    }

    #[test]
    fn the_fact_asked_for_comes_from_the_interrogative() {
        assert_eq!(Asked::of("Hvor mange gange er Havnens Perle blevet flyttet?"), Asked::Amount);
        assert_eq!(Asked::of("Hvad koster ordningen om året?"), Asked::Money);
        assert_eq!(Asked::of("Hvor mange penge er der afsat?"), Asked::Money);
        assert_eq!(Asked::of("Hvor stort et tilskud får klubben?"), Asked::Money);
        assert_eq!(Asked::of("Hvornår skal dagsordenen udsendes?"), Asked::When);
        assert_eq!(Asked::of("Hvem er formand for udvalget?"), Asked::Who);
        assert_eq!(Asked::of("Hvad hedder arrangementet?"), Asked::Who);
        assert_eq!(Asked::of("Hvilke partier står bag forslaget?"), Asked::Party);
        assert_eq!(Asked::of("Hvordan fordelte udvalgets medlemmer sig?"), Asked::Vote);
        assert_eq!(Asked::of("Hvorfor skal projektet ændres?"), Asked::Why);
        assert_eq!(Asked::of("Hvad besluttede byrådet om planen?"), Asked::Decision);
        assert_eq!(Asked::of("Hvad siger loven om habilitet?"), Asked::Other);
    }

    #[test]
    fn names_are_capitalised_words_not_opening_the_question() {
        let terms = content_terms("Hvem er formand for Teknisk Udvalg? Formanden vælges af udvalget.");
        let name = |stem: &str| terms.iter().find(|t| t.stems[0] == analysis::stem_term(stem)).map(|t| t.name);
        assert_eq!(name("teknisk"), Some(true));
        assert_eq!(name("formand"), Some(false));
        assert_eq!(name("formanden"), Some(false), "opens a sentence");
    }

    #[test]
    fn follow_ups_carry_the_earlier_question_forward() {
        let req = conversation(&[
            (ChatRole::User, "Hvad foreslog Dansk Folkeparti om Havnens Perle?"),
            (ChatRole::Assistant, "Ifølge referatet ... [1]"),
            (ChatRole::User, "og hvad besluttede byrådet så?"),
        ]);
        let q = standalone(&req);
        assert!(q.starts_with("og hvad besluttede byrådet så?"), "{q}");
        assert!(q.contains("Havnens") && q.contains("Perle"), "{q}");
        assert!(!q.contains("referatet"), "the assistant's turns are not carried: {q}");
    }

    #[test]
    fn standalone_questions_are_left_alone() {
        let req = conversation(&[
            (ChatRole::User, "Hvad foreslog Dansk Folkeparti om Havnens Perle?"),
            (ChatRole::Assistant, "..."),
            (ChatRole::User, "Hvornår skal dagsordenen til kommunalbestyrelsens møder udsendes?"),
        ]);
        assert_eq!(standalone(&req), "Hvornår skal dagsordenen til kommunalbestyrelsens møder udsendes?");
        assert_eq!(standalone(&ChatRequest::question("habilitet")), "habilitet");
    }
}
