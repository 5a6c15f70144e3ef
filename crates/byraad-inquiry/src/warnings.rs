//! What a member should check before sending a forespørgsel: personal data, health details, a
//! question about an individual case, one outside the municipality's remit, one too broad to
//! answer in 10 days.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Something the member should look at before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Warning {
    /// `already_answered`, `duplicate`, `personal_data`, `health_data`, `individual_case`,
    /// `outside_remit`, `too_broad`, `no_addressee`.
    pub code: String,
    /// What to do, in Danish.
    pub message: String,
    /// The document the message quotes (an earlier forespørgsel), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<String>,
}

/// Most questions one forespørgsel can have answered in 10 days.
const MAX_QUESTIONS: usize = 6;

static CPR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}\b").expect("valid regex"));
/// A role word followed by a name: "borgeren Hans Hansen", "min nabo Per", "fru Jensen".
static NAMED_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:\b(?:borger(?:en)?|beboer(?:en)?|patient(?:en)?|elev(?:en)?|barnet|pårørende|nabo(?:en)?|klient(?:en)?|hr\.|fru|ansøger(?:en)?|moren|faren|datteren|sønnen))\s+[A-ZÆØÅ][a-zæøå]+(?:\s+[A-ZÆØÅ][a-zæøå]+)?").expect("valid regex")
});
static HEALTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(diagnose\w*|sygdom\w*|syg|handicap\w*|psykisk\w*|psykiatri\w*|misbrug\w*|kræft|depression|demens|indlagt|indlæggelse|medicin\w*|helbred\w*|graviditet|gravid|autisme|adhd)\b").expect("valid regex")
});
static INDIVIDUAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(min sag|hans sag|hendes sag|deres sag|min nabo|en konkret borger|en bestemt borger|enkeltsag\w*|sagsnummer|journalnummer|min mor|min far|mit barn|min søn|min datter)\b").expect("valid regex")
});
static OUTSIDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(politi\w*|folketing\w*|regeringen|ministeri\w*|minister\w*|region midtjylland|regionen|sygehus\w*|hospital\w*|skattestyrelsen|forsvaret|domstol\w*|byret\w*|landsret\w*|universitet\w*|nato|eu-kommissionen)\b").expect("valid regex")
});
static BROAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(samtlige|alle (?:sager|udgifter|projekter|kontrakter|aftaler|henvendelser|ansatte|borgere)|de seneste (?:[5-9]|[1-9]\d) år|siden (?:19\d\d|200\d|201[0-5]))\b").expect("valid regex")
});

/// The warnings for a member's `text` and the `questions` drafted from it.
pub fn check(text: &str, questions: &[String]) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut warn = |code: &str, message: String| out.push(Warning { code: code.into(), message, doc_id: None });
    if CPR.is_match(text) {
        warn("personal_data", "Teksten indeholder et CPR-nummer. Fjern det: en forespørgsel og svaret på den offentliggøres.".into());
    }
    if let Some(m) = NAMED_PERSON.find(text) {
        warn("personal_data", format!("Teksten nævner en privatperson ved navn (»{}«). Fjern navnet, eller spørg generelt.", m.as_str()));
    }
    if let Some(m) = HEALTH.find(text) {
        warn("health_data", format!("Teksten indeholder helbredsoplysninger (»{}«). Fjern dem, hvis de handler om en bestemt person.", m.as_str()));
    }
    if INDIVIDUAL.is_match(text) || NAMED_PERSON.is_match(text) || CPR.is_match(text) {
        warn("individual_case", "Spørgsmålet ser ud til at handle om en enkelt borgers sag. Forvaltningen kan ikke besvare enkeltsager i en forespørgsel; spørg til praksis generelt, eller rejs sagen direkte over for forvaltningen.".into());
    }
    if let Some(m) = OUTSIDE.find(text) {
        warn("outside_remit", format!("Spørgsmålet nævner »{}«, som ikke er kommunens ansvar. Forvaltningen kan kun svare for kommunens egne opgaver.", m.as_str()));
    }
    if questions.len() > MAX_QUESTIONS {
        warn("too_broad", format!("Forespørgslen har {} spørgsmål. Mere end {MAX_QUESTIONS} kan sjældent besvares inden for fristen; del den op, eller prioriter.", questions.len()));
    } else if let Some(m) = BROAD.find(text) {
        warn("too_broad", format!("»{}« gør spørgsmålet bredt. Afgræns periode eller omfang, så det kan besvares inden for fristen.", m.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        check(text, &["1. Spørgsmål?".to_string()]).into_iter().map(|w| w.code).collect()
    }

    #[test]
    fn personal_data_and_individual_cases_are_flagged() {
        assert_eq!(codes("Hvorfor har borgeren med CPR 010190-1234 fået afslag?"), vec!["personal_data", "individual_case"]);
        let c = codes("Hvorfor er borgeren Hans Hansen blevet nægtet hjælp?");
        assert!(c.contains(&"personal_data".into()) && c.contains(&"individual_case".into()), "{c:?}");
        assert_eq!(codes("Hvordan behandler forvaltningen min nabos sag?"), Vec::<String>::new(), "a possessive alone names no one");
        assert_eq!(codes("Hvad sker der i min sag om byggetilladelse?"), vec!["individual_case"]);
        assert!(codes("Min mor er indlagt med demens; hvorfor får hun ikke en plejebolig?").contains(&"health_data".into()));
    }

    #[test]
    fn remit_and_breadth_are_flagged() {
        assert_eq!(codes("Hvor mange betjente har politiet i Aarhus Midtby?"), vec!["outside_remit"]);
        assert_eq!(codes("Hvad har samtlige anlægsprojekter kostet siden 2005?"), vec!["too_broad"]);
        let many: Vec<String> = (1..=8).map(|i| format!("{i}. Spørgsmål?")).collect();
        assert_eq!(check("Tekst", &many)[0].code, "too_broad");
    }

    #[test]
    fn ordinary_questions_pass() {
        for text in [
            "Hvor mange parkeringspladser nedlægges på Vesterbro Torv i 2026?",
            "Hvornår forventer rådmanden at svare på forslaget om lokalplejehjem?",
            "Hvad koster den nye cykelbro til Dokk1, og hvornår står den færdig?",
        ] {
            assert_eq!(codes(text), Vec::<String>::new(), "{text}");
        }
    }
}
