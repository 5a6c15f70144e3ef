//! Whether a sentence states the kind of fact a question asks for: a quantity, a time, a name,
//! parties, a vote, a decision, a reason. Lexical detectors of Danish council text; the scorer
//! learns how much each is worth.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use byraad_index::analysis::{self, Word};
use regex::Regex;

use crate::question::{Asked, capitalised};

/// Whether `sentence` (split into `words`) states the kind of fact `asked` for, beyond what the
/// question's own words (`given`, lower case) say.
pub fn states(asked: Asked, sentence: &str, words: &[Word], given: &HashSet<String>) -> bool {
    match asked {
        Asked::Money => MONEY.is_match(sentence),
        Asked::Amount => quantity(sentence, words, given),
        Asked::When => time(sentence, words, given),
        Asked::Party => words.iter().any(|w| PARTY_WORDS.contains(&w.lower.as_str()) && capitalised(sentence, w)),
        Asked::Vote => any_of(words, VOTE_WORDS),
        Asked::Decision => any_of(words, DECISION_WORDS),
        Asked::Why => any_of(words, REASON_WORDS),
        Asked::Who => name(sentence, words, given),
        Asked::Other => false,
    }
}

/// An amount of money: "3,25 mio. kr.", "100.000 kr.", "5 mia. kroner", "0,5m DKK".
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    Regex::new(r"(?i)\d[\d.,]*\s*(mio\.?|mia\.?|millioner|milliarder|t\.|m\b)?\s*(kr\b|kroner|dkk\b)").expect("valid regex")
});

/// A date in figures: "29.09.2025", "1.10.25".
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    Regex::new(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b").expect("valid regex")
});

/// A time of day: "kl. 15.45", "kl 9".
static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    Regex::new(r"(?i)\bkl\.?\s*\d{1,2}([.:]\d{2})?\b").expect("valid regex")
});

/// Words that number items rather than state amounts.
const NUMBERING_WORDS: &[&str] = &["punkt", "bilag", "slide", "side", "stk", "nr", "kapitel", "pkt", "anbefaling", "spor", "scenarie", "model", "fase"];
/// Words that give a reason.
const REASON_WORDS: &[&str] = &["fordi", "følge", "grund", "skyldes", "skyldtes", "derfor", "da", "idet", "årsag", "årsagen", "begrundelse", "begrundet", "pga", "hjemmel"];
/// Words that report a vote or a reservation.
const VOTE_WORDS: &[&str] = &[
    "tiltræde", "tiltrådte", "tiltrådt", "forbehold", "stemte", "stemmer", "imod", "undlod", "flertal", "mindretal", "enstemmigt", "anbefale", "anbefalede", "deltog", "forhindret",
];
/// Words that report a decision.
const DECISION_WORDS: &[&str] = &[
    "besluttede", "besluttet", "beslutning", "vedtog", "vedtaget", "godkendte", "godkendt", "godkendes", "tiltrådt", "tiltrædes", "afvist", "afviste", "afvises", "indstillingen", "enige",
];
/// Danish parties by letter and name.
const PARTY_WORDS: &[&str] = &[
    "a", "b", "c", "f", "i", "k", "m", "o", "v", "ø", "å", "æ", "kf", "la", "df", "sf", "rv", "el", "dd", "socialdemokratiet", "venstre", "konservative", "radikale",
    "enhedslisten", "moderaterne", "alternativet", "liberal", "alliance", "danmarksdemokraterne", "socialistisk", "folkeparti",
];
/// Danish month names, which make a number a date.
pub const MONTHS: &[&str] = &["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"];
/// Words that place something in time without a number.
const TIME_WORDS: &[&str] = &[
    "senest", "snarest", "primo", "medio", "ultimo", "foråret", "sommeren", "efteråret", "vinteren", "kvartal", "halvår", "årsskiftet", "straks", "løbende",
];
/// Units of time after a number ("inden 4 uger", "3-4 år").
const TIME_UNITS: &[&str] = &["dag", "dage", "dages", "hverdage", "uge", "uger", "ugers", "måned", "måneder", "måneders", "år", "års", "timer"];
/// Words saying a number is about so many.
const APPROXIMATELY: &[&str] = &["ca", "cirka", "omkring", "over", "under", "knap", "godt", "næsten", "mindst", "højst", "alt"];
/// Number words that state a count.
const NUMBER_WORDS: &[&str] = &["to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv", "tyve", "hundrede", "tusind", "halvdelen"];

/// Whether any of `words` is one of `list` (lower case).
fn any_of(words: &[Word], list: &[&str]) -> bool {
    words.iter().any(|w| list.contains(&w.lower.as_str()))
}

/// A name: two capitalised words in a row, not opening the sentence, not given by the question.
fn name(sentence: &str, words: &[Word], given: &HashSet<String>) -> bool {
    words.windows(2).any(|p| p[0].from > 0 && [&p[0], &p[1]].iter().all(|w| capitalised(sentence, w) && !given.contains(&w.lower)))
}

/// Whether `word` lies inside one of `spans`.
fn inside(spans: &[Range<usize>], word: &Word) -> bool {
    spans.iter().any(|m| m.start <= word.from && word.to <= m.end)
}

/// The byte ranges `re` matches in `text`.
fn matches(re: &Regex, text: &str) -> Vec<Range<usize>> {
    re.find_iter(text).map(|m| m.range()).collect()
}

/// Whether `sentence` says when, beyond what the question (`given`) says: a date, a month, a
/// year, a time of day, a span of time, a word like "senest" or "primo".
pub fn time(sentence: &str, words: &[Word], given: &HashSet<String>) -> bool {
    let (dates, clocks) = (matches(&NUMERIC_DATE, sentence), matches(&CLOCK, sentence));
    words.iter().enumerate().any(|(i, w)| {
        if given.contains(&w.lower) {
            return false;
        }
        let digits = !w.lower.is_empty() && w.lower.chars().all(|c| c.is_ascii_digit());
        let year = digits && w.lower.len() == 4 && (w.lower.starts_with("19") || w.lower.starts_with("20"));
        let span = digits && words.get(i + 1).is_some_and(|n| TIME_UNITS.contains(&n.lower.as_str()));
        MONTHS.contains(&w.lower.as_str()) || TIME_WORDS.contains(&w.lower.as_str()) || year || span || inside(&dates, w) || inside(&clocks, w)
    })
}

/// Whether `sentence` states a quantity the question (`given`) does not give: a count, an
/// amount, a share. Dates ("1. august 2026", "29.09.2025"), ordinals ("5. årgang"), times of
/// day and enumerators ("punkt 2", "§ 8", "1)") are not quantities.
pub fn quantity(sentence: &str, words: &[Word], given: &HashSet<String>) -> bool {
    let (dates, clocks) = (matches(&NUMERIC_DATE, sentence), matches(&CLOCK, sentence));
    words.iter().enumerate().any(|(i, w)| {
        if given.contains(&w.lower) {
            return false;
        }
        // A number word standing alone ("to gange", not "to-voksentimer").
        if NUMBER_WORDS.contains(&w.lower.as_str()) {
            return !sentence[w.to..].starts_with('-');
        }
        if !w.lower.chars().any(|c| c.is_ascii_digit()) {
            return false;
        }
        let after = &sentence[w.to..];
        let before = sentence[..w.from].trim_end();
        let prev = i.checked_sub(1).map(|p| words[p].lower.as_str());
        let next = words.get(i + 1).map(|n| n.lower.as_str());
        let ordinal = after.starts_with(".-") || after.strip_prefix('.').is_some_and(|r| r.starts_with(char::is_whitespace) && r.trim_start().starts_with(char::is_lowercase));
        // A year, unless it is said to be about so many ("ca. 2000 deltagere").
        let year = w.lower.len() == 4 && (w.lower.starts_with("19") || w.lower.starts_with("20")) && !prev.is_some_and(|p| APPROXIMATELY.contains(&p));
        let date = year || next.is_some_and(|n| MONTHS.contains(&n)) || prev.is_some_and(|p| MONTHS.contains(&p)) || inside(&dates, w);
        // Part of a name: "Pier 3", "Aarhus 2.0" (not "Små 30 timer" at the start).
        let named = i.checked_sub(1).is_some_and(|p| words[p].from > 0 && sentence[words[p].from..].starts_with(char::is_uppercase) && sentence[words[p].to..w.from].trim().is_empty());
        let clock = prev == Some("kl") || after.starts_with(':') || before.ends_with(':') || inside(&clocks, w);
        // "1." or "2)" opening a sentence numbers it; "17,4-udvalget", "2-årig" name things.
        let opening = before.chars().all(|c| !c.is_alphanumeric()) && after.starts_with(['.', ')']);
        let compound = after.strip_prefix('-').is_some_and(|r| r.starts_with(char::is_alphabetic));
        let numbering = opening || compound || after.starts_with(')') || prev.is_some_and(|p| NUMBERING_WORDS.contains(&p)) || before.ends_with('§');
        !(ordinal || date || clock || numbering || named)
    })
}

/// Whether `text` lists rather than states: a table of contents (dotted leaders), a run of
/// slide or item numbers, a slide deck's outline.
pub fn is_listing(text: &str) -> bool {
    if text.contains("....") || text.contains("…..") || text.contains("_____") {
        return true;
    }
    // "Slide 12: ... Slide 13: ..." and "- 23 Styrkelse ... - 24 Belysning ...": many numbered
    // entries run together.
    let entries = text.matches("Slide ").count() + text.matches(" - ").count();
    if entries >= 3 {
        return true;
    }
    let words = analysis::words(text);
    // "3,25" and "2.5" are one number each ("15.000" is one word already).
    let continues_number = |w: &Word| {
        let before = &text.as_bytes()[..w.from];
        before.len() >= 2 && matches!(before[before.len() - 1], b'.' | b',') && before[before.len() - 2].is_ascii_digit()
    };
    let numbers = words.iter().filter(|w| w.lower.chars().all(|c| c.is_ascii_digit()) && !continues_number(w)).count();
    let count = words.iter().filter(|w| !continues_number(w)).count();
    count >= 20 && numbers * 5 >= count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(question: &str) -> HashSet<String> {
        analysis::words(question).into_iter().map(|w| w.lower).collect()
    }

    fn states_in(asked: Asked, sentence: &str, question: &str) -> bool {
        states(asked, sentence, &analysis::words(sentence), &given(question))
    }

    #[test]
    fn quantities_are_counts_and_amounts_not_dates_or_numbering() {
        let q = "Hvor mange elever forventes at gå på skolen, når den åbner i august 2026?";
        for yes in [
            "Skolen får plads til 700 elever.",
            "Der er indkommet i alt 1149 høringssvar.",
            "Forbruget nedbringes med 1,9% årligt.",
            "Det koster ca. 3,25 mio. kr. om året.",
            "Udvalget mødes to gange årligt.",
            "Et arrangement med ca. 2000 deltagere.",
            "Små 30 timer har byrådet brugt.",
        ] {
            assert!(states_in(Asked::Amount, yes, q), "{yes}");
        }
        for no in [
            "Når skolen åbner 1. august 2026, flytter Elev Skole ind.",
            "Skolen har elever på 0.-5. årgang.",
            "Beslutningsforslag V, KF og DD 29.09.2025",
            "Mødet begynder kl. 16:00 i byrådssalen.",
            "Det fremgår af punkt 4 og bilag 2.",
            "Sagen behandles efter § 11 i loven.",
            "At 1) Byrådet godkender planen.",
            "Der er grønne områder på Pier 3.",
            "Skolerne får flere to-voksentimer.",
        ] {
            assert!(!states_in(Asked::Amount, no, q), "{no}");
        }
    }

    #[test]
    fn times_are_dates_spans_and_deadlines_not_counts() {
        let q = "Hvornår får Havnens Perle en permanent placering?";
        for yes in ["Den 9. april 2025 behandlede byrådet forslaget.", "Tidsplan: første delrapport inden 4 uger.", "Dagsordenen udsendes senest 4 hverdage før mødet.", "Mødet begynder kl. 16:00."] {
            assert!(states_in(Asked::When, yes, q), "{yes}");
        }
        for no in ["Havnens Perle er blevet smidt rundt 5 gange", "Havnens Perle skal have en permanent placering."] {
            assert!(!states_in(Asked::When, no, q), "{no}");
        }
    }

    #[test]
    fn names_parties_votes_and_reasons() {
        assert!(states_in(Asked::Who, "Jeg har en fin dialog med Martin Busk fra Bricks.", "Hvem hos Bricks er han i dialog med?"));
        assert!(!states_in(Asked::Who, "Dialogen med Bricks er god.", "Hvem hos Bricks er han i dialog med?"));
        assert!(states_in(Asked::Party, "Forslag fra V, KF og LA.", "Hvilke partier står bag forslaget?"));
        assert!(states_in(Asked::Vote, "Jakob Søgaard Clausen tog forbehold.", "Hvordan fordelte medlemmerne sig?"));
        assert!(states_in(Asked::Why, "Ændringen sker som følge af, at projektet er sat på pause.", "Hvorfor ændres projektet?"));
        assert!(!states_in(Asked::Other, "Ændringen sker som følge af, at projektet er sat på pause.", "Hvad ændres?"));
    }

    #[test]
    fn money_is_a_number_and_a_currency() {
        let q = "Hvad koster ordningen?";
        for amount in ["Det koster ca. 3,25 mio. kr. årligt.", "Budgettet er 100.000 kr. pr. år.", "Der er afsat ca. 0,5m DKK til det."] {
            assert!(states_in(Asked::Money, amount, q), "{amount}");
        }
        for not in ["Ordningen gentages 5 gange.", "Der er 25 medlemmer.", "kr. 5"] {
            assert!(!states_in(Asked::Money, not, q), "{not}");
        }
    }

    #[test]
    fn listings_are_not_statements() {
        assert!(is_listing("Bro mellem Dokk1 og Balticagade.........................17"));
        assert!(is_listing("- 23 Styrkelse af det sociale område - 23 Belysning A - 24 Styrkelse af socialområdet - 24 Belysning A - 25 Ældre"));
        assert!(is_listing("Slide 279: Status på arbejdet Slide 280: Overbliksprogram – Nyt byråd 2026 Slide 281: Website om KV25"));
        assert!(!is_listing("Med Budget 2024 videreføres og udbredes Opgang til Opgang til også at omfatte Viby og Tilst."));
        assert!(!is_listing("De samlede udgifter i Familiecentret er dog steget fra 148 mio. kr. til 161 mio. kr. pr. kvartal."));
        assert!(!is_listing("Pga. nedgang i budgettet er det maksimale belgb nedsat fra tidligere 15.000 kr. til nu 5.000 kr."));
    }
}
