//! Drafting a 10-dages forespørgsel from a member's own words: the addressee (the
//! magistratsafdeling whose cases the archive shows the topic belongs to), the deadline, precise
//! numbered questions, and first of all what the archive already says about each question.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use byraad_answer::Answerer;
use byraad_core::{ChatRequest, ChatRole, Clearance, Filters, Hit, Kind, Message, SearchRequest, Span};
use byraad_index::Retriever;
use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::deadline::{Calendar, Deadline};
use crate::warnings::{self, Warning};

/// Longest text of a member accepted, in characters.
const MAX_TEXT_CHARS: usize = 5_000;
/// Longest name, party or addressee, in characters.
const MAX_NAME_CHARS: usize = 300;
/// What a passage saying a department owns the matter weighs, against the body that held the
/// meeting and each mention of the department.
const OWNS: f32 = 3.0;
const BODY: f32 = 1.0;
const NAMED: f32 = 0.5;

/// Passages read to decide the addressee.
const ADDRESSEE_PASSAGES: usize = 10;

/// A request for a draft (`POST /v1/inquiries/draft`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The member asking.
    pub member: String,
    /// The member's party.
    pub party: String,
    /// What the member wants to know, in their own words.
    pub text: String,
    /// The date of the forespørgsel, YYYY-MM-DD (default: today).
    #[serde(default)]
    pub date: Option<String>,
    /// The addressee, overriding the one the archive suggests: a department's code (BA, MBU,
    /// MKB, MSB, MSO, MTM) or any text.
    #[serde(default)]
    pub addressee: Option<String>,
    /// What the member may read (set by the server from the principal; default public only).
    #[serde(skip)]
    pub clearance: Clearance,
}

/// Why a request is refused: the field and the problem, in English for developers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl DraftRequest {
    /// Checks the fields; returns the date.
    pub fn validate(&self, today: NaiveDate) -> Result<NaiveDate, Invalid> {
        for (field, value) in [("member", &self.member), ("party", &self.party)] {
            if value.trim().is_empty() || value.chars().count() > MAX_NAME_CHARS {
                return Err(Invalid { field, message: format!("must hold 1 to {MAX_NAME_CHARS} characters") });
            }
        }
        for (field, value) in [("member", &self.member), ("party", &self.party), ("text", &self.text)] {
            if byraad_core::has_control(value) {
                return Err(Invalid { field, message: "holds control characters".into() });
            }
        }
        if self.text.trim().is_empty() || self.text.chars().count() > MAX_TEXT_CHARS {
            return Err(Invalid { field: "text", message: format!("must hold 1 to {MAX_TEXT_CHARS} characters") });
        }
        if let Some(a) = &self.addressee
            && (a.trim().is_empty() || a.chars().count() > MAX_NAME_CHARS)
        {
            return Err(Invalid { field: "addressee", message: format!("must hold 1 to {MAX_NAME_CHARS} characters") });
        }
        let Some(d) = &self.date else { return Ok(today) };
        let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| Invalid { field: "date", message: format!("{d:?} is not a date YYYY-MM-DD") })?;
        if !byraad_core::SANE_YEARS.contains(&chrono::Datelike::year(&date)) {
            let (first, last) = (byraad_core::SANE_YEARS.start(), byraad_core::SANE_YEARS.end());
            return Err(Invalid { field: "date", message: format!("{d:?} is outside the years {first} to {last}") });
        }
        Ok(date)
    }
}

/// A magistratsafdeling of Aarhus Kommune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Department {
    /// BA, MBU, MKB, MSB, MSO, MTM.
    pub code: &'static str,
    /// "Teknik og Miljø".
    pub name: &'static str,
    /// Its committees and other bodies, as the archive names them.
    bodies: &'static [&'static str],
}

/// The six magistratsafdelinger.
pub const DEPARTMENTS: [Department; 6] = [
    // The Magistrat meets on every department's cases: it owns none of them.
    Department { code: "BA", name: "Borgmesterens Afdeling", bodies: &["Økonomi- og Erhvervsudvalget", "Økonomiudvalget", "Borgmesterens Afdeling", "Byrådsservice"] },
    Department { code: "MBU", name: "Børn og Unge", bodies: &["Børn- og Unge-udvalget", "Børne- og Ungeudvalget", "Børn og Unge"] },
    Department { code: "MKB", name: "Kultur og Borgerservice", bodies: &["Kulturudvalget", "Kultur og Borgerservice"] },
    Department { code: "MSB", name: "Sociale Forhold og Beskæftigelse", bodies: &["Social- og Beskæftigelsesudvalget", "Sociale Forhold og Beskæftigelse"] },
    Department { code: "MSO", name: "Sundhed og Omsorg", bodies: &["Sundheds- og Omsorgsudvalget", "Sundhed og Omsorg"] },
    Department { code: "MTM", name: "Teknik og Miljø", bodies: &["Teknisk Udvalg", "Klima- og Bæredygtighedsudvalget", "Teknik og Miljø"] },
];

impl Department {
    /// "Rådmanden for Teknik og Miljø (Magistratsafdelingen for Teknik og Miljø)"; the
    /// borgmester heads Borgmesterens Afdeling.
    pub fn addressee(&self) -> String {
        if self.code == "BA" { "Borgmesteren (Borgmesterens Afdeling)".to_string() } else { format!("Rådmanden for {0} (Magistratsafdelingen for {0})", self.name) }
    }

    /// The department a code names.
    pub fn by_code(code: &str) -> Option<&'static Department> {
        DEPARTMENTS.iter().find(|d| d.code.eq_ignore_ascii_case(code.trim()))
    }

    /// How often `text` names the department (its name, code or bodies).
    fn mentions(&self, text: &str) -> usize {
        self.names().map(|n| n.find_iter(text).count()).sum()
    }

    /// Where `text` says the department owns the matter: it is named next to a word of
    /// ownership ("Teknik og Miljø indstiller", "forankret i Borgmesterens Afdeling",
    /// "Fremsendes til Teknisk Udvalg", "placeret i ... MKB"). The first such phrase.
    fn owns<'t>(&self, text: &'t str) -> Option<&'t str> {
        for m in self.names().flat_map(|n| n.find_iter(text).collect::<Vec<_>>()) {
            // The words on either side of the name, within the sentence.
            let before = text[..m.start()].rsplit(['.', '\n']).next().unwrap_or_default();
            let after = text[m.end()..].split(['.', '\n']).next().unwrap_or_default();
            let near = |words: &mut dyn Iterator<Item = &str>| words.take(OWNERSHIP_WINDOW).any(|w| OWNERSHIP.iter().any(|o| w.trim_matches(|c: char| !c.is_alphanumeric()).eq_ignore_ascii_case(o)));
            if near(&mut before.split_whitespace().rev()) || near(&mut after.split_whitespace()) {
                let start = m.start() - before.len().min(60).min(m.start());
                let start = (0..=start).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                let end = (m.end() + after.len().min(60)).min(text.len());
                let end = (end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
                return Some(text[start..end].trim());
            }
        }
        None
    }

    /// Patterns of its name, code and bodies.
    fn names(&self) -> impl Iterator<Item = &'static Regex> {
        static NAMES: LazyLock<HashMap<&'static str, Vec<Regex>>> = LazyLock::new(|| {
            DEPARTMENTS
                .iter()
                .map(|d| {
                    let mut patterns = vec![Regex::new(&format!(r"\b{}\b", d.code)).expect("valid regex")];
                    patterns.extend(std::iter::once(d.name).chain(d.bodies.iter().copied()).map(|n| Regex::new(&regex::escape(n)).expect("valid regex")));
                    (d.code, patterns)
                })
                .collect()
        });
        NAMES.get(self.code).into_iter().flatten()
    }
}

/// Words saying a department owns a matter: it proposes, recommends, prepared, carries, hosts
/// the work, or the case is sent (back) to it.
const OWNERSHIP: &[&str] = &[
    "indstiller", "indstillet", "foreslår", "anbefaler", "udarbejdet", "udarbejder", "ansvaret", "ansvarlig", "varetager", "forankret", "placeret", "placeres", "betjenes", "betjener",
    "tilbagesendes", "fremsendes", "igangsætter", "undersøger", "ejer", "leder", "ledes",
];
/// Words on either side of a department's name that may say it owns the matter.
const OWNERSHIP_WINDOW: usize = 4;

/// The draft itself, in the formal layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Draft {
    /// The addressee.
    pub til: String,
    /// The member and party.
    pub fra: String,
    /// The date, YYYY-MM-DD.
    pub dato: String,
    /// The answer deadline, YYYY-MM-DD.
    pub svarfrist: String,
    /// The subject.
    pub emne: String,
    /// The background, citing what the archive already says as `[n]` (numbers of `related`).
    pub baggrund: String,
    /// The numbered questions.
    #[serde(rename = "spørgsmål")]
    pub questions: Vec<String>,
}

/// Who the forespørgsel goes to, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Addressee {
    /// The department's code, when it is one.
    pub code: Option<String>,
    /// Why: the archive's evidence, or the member's choice.
    pub reason: String,
    /// The documents the reason quotes or names; `None` in drafts stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
}

/// Something in the archive that may already answer a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Related {
    /// Its number in the background, `[n]`.
    pub n: usize,
    /// The document.
    pub doc_id: String,
    /// The document's title.
    pub title: String,
    /// The passage, exactly the document's text at `span`.
    pub quote: String,
    /// The passage's bytes in the document text.
    pub span: Span,
    /// Why it is listed.
    pub why: String,
    /// The question (1, 2, ...) it may already answer; none for an earlier forespørgsel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<usize>,
}

/// A draft and what surrounds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DraftResponse {
    /// The draft.
    pub draft: Draft,
    /// Who it goes to, and why.
    pub addressee: Addressee,
    /// What the archive already says, by question.
    pub related: Vec<Related>,
    /// What to check before sending.
    pub warnings: Vec<Warning>,
    /// The draft as Markdown.
    pub markdown: String,
}

/// How drafts are made.
#[derive(Debug, Clone)]
pub struct DraftConfig {
    /// The answer deadline.
    pub deadline: Deadline,
    /// Working days.
    pub calendar: Calendar,
}

/// Drafts forespørgsler.
pub struct Drafter {
    retriever: Arc<Retriever>,
    answerer: Arc<Answerer>,
    config: DraftConfig,
}

impl Drafter {
    /// A drafter searching with `retriever` and answering with `answerer`.
    pub fn new(retriever: Arc<Retriever>, answerer: Arc<Answerer>, config: DraftConfig) -> Self {
        Self { retriever, answerer, config }
    }

    /// The draft of `req`, received on `date`.
    pub fn draft(&self, req: &DraftRequest, date: NaiveDate) -> byraad_index::Result<DraftResponse> {
        let mut warnings = Vec::new();
        let addressee = match &req.addressee {
            Some(a) => match Department::by_code(a) {
                Some(d) => (d.addressee(), Addressee { code: Some(d.code.to_string()), reason: CHOSEN.into(), sources: Some(Vec::new()) }),
                None => (a.trim().to_string(), Addressee { code: None, reason: CHOSEN.into(), sources: Some(Vec::new()) }),
            },
            None => self.addressee(&req.text, &req.clearance)?.unwrap_or_else(|| {
                warnings.push(Warning { code: "no_addressee".into(), message: "Arkivet viser ikke, hvilken magistratsafdeling emnet hører under; forespørgslen er rettet til borgmesteren. Angiv modtageren, hvis du ved det.".into(), doc_id: None });
                (DEPARTMENTS[0].addressee(), Addressee { code: Some("BA".into()), reason: "Ingen sager i arkivet peger på en bestemt afdeling.".into(), sources: Some(Vec::new()) })
            }),
        };
        let (til, addressee) = addressee;
        // Questions are put to the head of the department: the borgmester, a rådmand, or
        // (addressed otherwise) the administration.
        let asked = match addressee.code.as_deref() {
            Some("BA") => "borgmesteren",
            Some(_) => "rådmanden",
            None => "forvaltningen",
        };
        let questions = questions(&req.text, asked);
        let mut found = warnings::check(&req.text, &questions);
        found.append(&mut warnings);
        let mut warnings = found;

        // What the archive already says, question by question.
        let mut related: Vec<Related> = Vec::new();
        let mut answered = 0;
        for i in 0..questions.len() {
            // Earlier questions go along as earlier turns: "Hvornår får den en permanent
            // placering?" is about what question 1 named.
            let plain = |q: &str| byraad_core::within(q.split_once(". ").map_or(q, |(_, rest)| rest), byraad_core::MAX_MESSAGE_CHARS).to_string();
            let messages = questions[..=i].iter().map(|q| Message { role: ChatRole::User, content: plain(q) }).collect();
            let answer = self.answerer.answer(&ChatRequest { messages, clearance: req.clearance.clone(), ..ChatRequest::default() })?;
            // The first passage not already listed for an earlier question: one passage that
            // answers two questions answers neither precisely.
            let fresh = answer.citations.iter().find(|c| !related.iter().any(|r| r.doc_id == c.doc_id && r.span == c.span));
            let Some(c) = fresh.filter(|_| !answer.abstained) else { continue };
            answered += 1;
            let n = related.len() + 1;
            related.push(Related {
                n,
                doc_id: c.doc_id.clone(),
                title: c.title.clone(),
                quote: c.quote.clone(),
                span: c.span,
                why: format!("Kan allerede besvare spørgsmål {}", i + 1),
                answers: Some(i + 1),
            });
        }
        // Earlier forespørgsler about the same.
        let earlier = self.retriever.search(&SearchRequest {
            query: byraad_core::within(&req.text, byraad_core::MAX_QUERY_CHARS).to_string(),
            limit: Some(3),
            filters: Filters { kind: vec![Kind::Forespoergsel], ..Filters::default() },
            mode: None,
            clearance: req.clearance.clone(),
        })?;
        for hit in earlier.hits.iter().take(2) {
            if related.iter().any(|r| r.doc_id == hit.doc_id) {
                continue;
            }
            let n = related.len() + 1;
            // Its text from past the header block (title, Til, Fra, Dato, Emne).
            let start = byraad_answer::sentences(&hit.text)
                .into_iter()
                .find(|r| {
                    let s = &hit.text[r.clone()];
                    !s.starts_with(hit.title.as_str()) && !["Til:", "Fra:", "Dato:", "Emne:"].iter().any(|h| s.starts_with(h))
                })
                .map_or(0, |r| r.start);
            let end = start + first_sentences(&hit.text[start..], 400);
            related.push(Related {
                n,
                doc_id: hit.doc_id.clone(),
                title: hit.title.clone(),
                quote: hit.text[start..end].to_string(),
                span: Span::new(hit.span.start + start, hit.span.start + end),
                why: "En tidligere forespørgsel om samme emne".to_string(),
                answers: None,
            });
        }
        // Each question against the questions of earlier forespørgsler: a near-duplicate is named.
        for (i, q) in questions.iter().enumerate() {
            // The member's question, without its number and the formal lead the draft gave it.
            let plain = q.split_once(". ").map_or(q.as_str(), |(_, rest)| rest);
            let plain = FORMAL_LEAD.replace(plain, "");
            if let Some(d) = crate::duplicates::earlier(&self.retriever, &plain, &req.clearance)? {
                let when = d.date.as_deref().map(|day| format!(", besvaret {day}")).unwrap_or_default();
                let answer = d.answer.as_deref().map(|a| format!(" Svaret var: »{a}«")).unwrap_or_default();
                warnings.push(Warning {
                    code: "duplicate".into(),
                    message: format!("Spørgsmål {} ligner et spørgsmål i en tidligere forespørgsel ({}{when}): »{}«.{answer} Overvej at henvise til svaret eller at spørge til det, der er sket siden.", i + 1, d.title, d.question),
                    doc_id: Some(d.doc_id),
                });
            }
        }
        if !questions.is_empty() && answered == questions.len() {
            warnings.insert(0, already_answered());
        }

        let svarfrist = self.config.calendar.deadline(date, self.config.deadline);
        let emne = subject(&req.text, &questions);
        // The member's own statements (what is not a question) are the background.
        let context: Vec<&str> = SENTENCE
            .find_iter(&req.text)
            .map(|m| m.as_str().trim())
            .filter(|s| !s.is_empty() && !s.ends_with('?') && !REQUEST_LEAD.is_match(s) && s.split_whitespace().count() >= 3)
            .collect();
        let mut baggrund = format!("{} ({}) beder om svar på følgende spørgsmål.", req.member.trim(), req.party.trim());
        if !context.is_empty() {
            baggrund = format!("{} {baggrund}", context.join(" "));
        }
        baggrund.push_str(&archive_note(&related));
        let draft = Draft {
            til,
            fra: format!("{}, {}", req.member.trim(), req.party.trim()),
            dato: date.to_string(),
            svarfrist: svarfrist.to_string(),
            emne,
            baggrund,
            questions,
        };
        let markdown = markdown(&draft, &related);
        Ok(DraftResponse { draft, addressee, related, warnings, markdown })
    }

    /// The department the archive's passages about `text` belong to, with the reason.
    fn addressee(&self, text: &str, clearance: &Clearance) -> byraad_index::Result<Option<(String, Addressee)>> {
        let found = self.retriever.search(&SearchRequest { query: byraad_core::within(text, byraad_core::MAX_QUERY_CHARS).to_string(), limit: Some(ADDRESSEE_PASSAGES), filters: Filters::default(), mode: None, clearance: clearance.clone() })?;
        let mut votes: Vec<(f32, Vec<&Hit>)> = DEPARTMENTS.iter().map(|_| (0.0, Vec::new())).collect();
        // The strongest evidence of ownership seen for each department: (weight, phrase, title, document).
        let mut owned: Vec<Option<(f32, String, String, String)>> = vec![None; DEPARTMENTS.len()];
        for (rank, hit) in found.hits.iter().enumerate() {
            let weight = 1.0 / (rank as f32 + 1.0);
            for (k, (d, vote)) in DEPARTMENTS.iter().zip(votes.iter_mut()).enumerate() {
                // A passage saying the department owns the matter counts most; the body that
                // held the meeting, and departments the text merely names, less.
                let owns = d.owns(&hit.text);
                let body = d.bodies.iter().any(|b| hit.body.contains(b)) || hit.body.contains(d.name);
                let named = d.mentions(&hit.text).min(3) as f32;
                let score = weight * (if owns.is_some() { OWNS } else { 0.0 } + if body { BODY } else { 0.0 } + NAMED * named);
                if score > 0.0 {
                    vote.0 += score;
                    vote.1.push(hit);
                }
                if let Some(phrase) = owns
                    && owned[k].as_ref().is_none_or(|(w, ..)| weight > *w)
                {
                    owned[k] = Some((weight, phrase.to_string(), hit.title.clone(), hit.doc_id.clone()));
                }
            }
        }
        // The member naming the department settles it.
        for (d, vote) in DEPARTMENTS.iter().zip(votes.iter_mut()) {
            vote.0 += 3.0 * d.mentions(text).min(1) as f32;
        }
        let Some((best, (score, hits))) = votes.iter().enumerate().max_by(|a, b| a.1.0.total_cmp(&b.1.0)) else { return Ok(None) };
        if *score <= 0.0 {
            return Ok(None);
        }
        let d = &DEPARTMENTS[best];
        // The first three titles, each with every document of that title (all are named by it).
        let mut titles: Vec<&str> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for h in hits {
            if !titles.contains(&h.title.as_str()) {
                if titles.len() == 3 {
                    continue;
                }
                titles.push(&h.title);
            }
            if !named.contains(&h.doc_id) {
                named.push(h.doc_id.clone());
            }
        }
        let (reason, sources) = match (&owned[best], titles.is_empty()) {
            (Some((_, phrase, title, doc_id)), _) => (format!("Sagen hører under {}: »{}« ({title}).", d.name, phrase.split_whitespace().collect::<Vec<_>>().join(" ")), vec![doc_id.clone()]),
            (None, true) => (format!("Teksten nævner {}.", d.name), Vec::new()),
            (None, false) => (format!("Arkivets nærmeste sager om emnet hører under {}: {}.", d.name, titles.join("; ")), named),
        };
        Ok(Some((d.addressee(), Addressee { code: Some(d.code.to_string()), reason, sources: Some(sources) })))
    }
}

/// The reason of an addressee the member chose.
pub(crate) const CHOSEN: &str = "Valgt af medlemmet.";

/// The background's closing sentence pointing to the related material, `[1][2]`; empty without any.
pub(crate) fn archive_note(related: &[Related]) -> String {
    if related.is_empty() {
        return String::new();
    }
    let refs: String = related.iter().map(|r| format!("[{}]", r.n)).collect();
    format!("{ARCHIVE_NOTE}{refs}.")
}

/// How [`archive_note`] begins.
pub(crate) const ARCHIVE_NOTE: &str = " Arkivet indeholder allerede materiale om emnet ";

/// The code of the warning that the archive may already answer every question.
pub(crate) const ALREADY_ANSWERED: &str = "already_answered";

/// The warning that the archive may already answer every question.
pub(crate) fn already_answered() -> Warning {
    Warning {
        code: ALREADY_ANSWERED.into(),
        message: "Arkivet indeholder allerede materiale, der kan besvare alle spørgsmålene (se de relaterede kilder). Overvej, om forespørgslen stadig er nødvendig, eller henvis til kilderne.".into(),
        doc_id: None,
    }
}

static SENTENCE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[^.?!\n]+(?:[.?!]+|\n|$)").expect("valid regex"));
/// The lead a draft puts before a question ("Kan borgmesteren oplyse, ").
static FORMAL_LEAD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^kan (?:borgmesteren|rådmanden|forvaltningen) oplyse,?\s*").expect("valid regex"));
static REQUEST_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:jeg|vi)\s+(?:vil\s+gerne|ønsker\s+at|vil)\s+(?:vide|høre|spørge\s+om|have\s+oplyst),?\s+").expect("valid regex")
});
static COMPOUND: LazyLock<Regex> = LazyLock::new(|| Regex::new(r",?\s+og\s+(hvad|hvor|hvornår|hvem|hvilke|hvilken|hvilket|hvordan|hvorfor)\b").expect("valid regex"));
/// Words that open a question.
const INTERROGATIVES: &[&str] = &["hvad", "hvor", "hvornår", "hvem", "hvilke", "hvilken", "hvilket", "hvordan", "hvorfor", "er", "kan", "vil", "har", "bliver", "skal", "findes"];

/// The member's text as precise, numbered questions in formal Danish: one ask per question
/// (compound questions split), "jeg vil gerne vide, om ..." as "Kan rådmanden oplyse, om ...?",
/// a text with no question made one ("Kan rådmanden redegøre for ...?").
pub fn questions(text: &str, asked: &str) -> Vec<String> {
    let mut asks: Vec<String> = Vec::new();
    for m in SENTENCE.find_iter(text) {
        let s = m.as_str().trim();
        if s.is_empty() {
            continue;
        }
        let is_question = s.ends_with('?');
        let lead = REQUEST_LEAD.find(s);
        if !is_question && lead.is_none() {
            continue;
        }
        let body = s.trim_end_matches(['?', '.', '!']).trim();
        let body = match lead {
            Some(l) => format!("Kan {asked} oplyse, {}", &body[l.end()..]),
            None => body.to_string(),
        };
        // "Hvor mange ..., og hvornår ...?" asks two things.
        let mut start = 0;
        let mut parts = Vec::new();
        for c in COMPOUND.captures_iter(&body) {
            let (whole, word) = (c.get(0).expect("match"), c.get(1).expect("group"));
            parts.push(body[start..whole.start()].trim().to_string());
            start = word.start();
        }
        parts.push(body[start..].trim().to_string());
        for p in parts.into_iter().filter(|p| p.split_whitespace().count() >= 2) {
            asks.push(format!("{}?", upper_first(&p)));
        }
    }
    if asks.is_empty() {
        let first = text.split(['.', '\n']).map(str::trim).find(|s| !s.is_empty()).unwrap_or(text.trim());
        let first = first.trim_end_matches(['?', '.', '!']);
        let opens = first.split_whitespace().next().is_some_and(|w| INTERROGATIVES.contains(&w.to_lowercase().as_str()));
        asks.push(if opens { format!("{}?", upper_first(first)) } else { format!("Kan {asked} redegøre for {}?", lower_first(first)) });
    }
    asks.iter().enumerate().map(|(i, q)| format!("{}. {q}", i + 1)).collect()
}

/// Openings of a question that are not its subject.
const FRAMES: &[&str] = &[
    "Kan rådmanden oplyse, om ", "Kan rådmanden oplyse, ", "Kan rådmanden redegøre for ", "Kan borgmesteren oplyse, om ", "Kan borgmesteren oplyse, ",
    "Kan borgmesteren redegøre for ", "Kan forvaltningen oplyse, om ", "Kan forvaltningen oplyse, ", "Kan forvaltningen redegøre for ", "Hvad er ", "Hvad var ", "Hvad bliver ",
];

/// The subject: the first question without its number and interrogative frame, shortened.
fn subject(text: &str, questions: &[String]) -> String {
    let first = questions.first().map(|q| q.split_once(". ").map_or(q.as_str(), |(_, r)| r)).unwrap_or(text);
    let mut core = first.trim_end_matches('?');
    for frame in FRAMES {
        if let Some(rest) = core.strip_prefix(frame) {
            core = rest;
            break;
        }
    }
    let mut words: Vec<&str> = core.split_whitespace().collect();
    if words.len() > 14 {
        words.truncate(14);
        return format!("{} …", upper_first(&words.join(" ")));
    }
    upper_first(&words.join(" "))
}

/// The end of the first sentences of `text` within `max` bytes.
fn first_sentences(text: &str, max: usize) -> usize {
    let ends: Vec<usize> = byraad_answer::sentences(text).into_iter().map(|r| r.end).collect();
    ends.iter().copied().rfind(|&e| e <= max).or(ends.first().copied()).unwrap_or(text.len())
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// `s` with its first word lowercased when that is an interrogative ("Hvor mange" → "hvor
/// mange"); names stay as written.
fn lower_first(s: &str) -> String {
    let first = s.split_whitespace().next().unwrap_or_default().to_lowercase();
    if INTERROGATIVES.contains(&first.as_str()) {
        let mut c = s.chars();
        c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
    } else {
        s.to_string()
    }
}

/// The draft as Markdown: header block, background, questions, sources.
pub fn markdown(draft: &Draft, related: &[Related]) -> String {
    let mut out = String::from("# 10-dages forespørgsel\n\n");
    for (label, value) in [("Til", &draft.til), ("Fra", &draft.fra), ("Dato", &draft.dato), ("Svarfrist", &draft.svarfrist), ("Emne", &draft.emne)] {
        out.push_str(&format!("**{label}:** {value}  \n"));
    }
    out.push_str(&format!("\n## Baggrund\n\n{}\n\n## Spørgsmål\n\n", draft.baggrund));
    for q in &draft.questions {
        out.push_str(&format!("{q}\n"));
    }
    if !related.is_empty() {
        out.push_str("\n## Kilder i arkivet\n\n");
        for r in related {
            let quote = r.quote.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!("[{}] {} — {}: »{quote}«\n", r.n, r.title, r.why));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_members_words_become_numbered_formal_questions() {
        let q = questions("Der er mange klager over støj fra Vesterbro Torv. Hvor mange klager har forvaltningen modtaget i 2025, og hvornår forventer forvaltningen en løsning? Jeg vil gerne vide, om der er afsat penge til støjværn.", "rådmanden");
        assert_eq!(
            q,
            vec![
                "1. Hvor mange klager har forvaltningen modtaget i 2025?",
                "2. Hvornår forventer forvaltningen en løsning?",
                "3. Kan rådmanden oplyse, om der er afsat penge til støjværn?",
            ]
        );
        assert_eq!(questions("parkeringsforholdene ved Ny Munkegade", "borgmesteren"), vec!["1. Kan borgmesteren redegøre for parkeringsforholdene ved Ny Munkegade?"]);
        assert_eq!(questions("hvad koster den nye bro", "rådmanden"), vec!["1. Hvad koster den nye bro?"]);
    }

    #[test]
    fn requests_are_validated() {
        let today = NaiveDate::from_ymd_opt(2025, 12, 19).unwrap_or_default();
        let ok = DraftRequest { member: "Anna Hansen".into(), party: "SF".into(), text: "Hvad koster broen?".into(), date: None, addressee: None, clearance: Clearance::public() };
        assert_eq!(ok.validate(today), Ok(today));
        let bad = DraftRequest { date: Some("19-12-2025".into()), ..ok.clone() };
        assert_eq!(bad.validate(today).unwrap_err().field, "date");
        for far in ["+262142-12-31", "99999-01-01", "-0001-01-01", "1899-12-31", "2200-01-01"] {
            let bad = DraftRequest { date: Some(far.into()), ..ok.clone() };
            assert_eq!(bad.validate(today).unwrap_err().field, "date", "{far}");
        }
        let bad = DraftRequest { text: " ".into(), ..ok.clone() };
        assert_eq!(bad.validate(today).unwrap_err().field, "text");
        let bad = DraftRequest { party: String::new(), ..ok };
        assert_eq!(bad.validate(today).unwrap_err().field, "party");
    }

    #[test]
    fn subjects_drop_the_question_frame() {
        assert_eq!(subject("", &["1. Hvad er status på evalueringen af Vesterbro Torv?".into()]), "Status på evalueringen af Vesterbro Torv");
        assert_eq!(subject("", &["1. Kan rådmanden redegøre for parkeringsforholdene ved Ny Munkegade?".into()]), "Parkeringsforholdene ved Ny Munkegade");
        assert_eq!(subject("", &["1. Hvor mange klager er der kommet?".into()]), "Hvor mange klager er der kommet");
    }

    #[test]
    fn departments_address_their_head() {
        assert_eq!(Department::by_code("mtm").map(Department::addressee).as_deref(), Some("Rådmanden for Teknik og Miljø (Magistratsafdelingen for Teknik og Miljø)"));
        assert_eq!(Department::by_code("BA").map(Department::addressee).as_deref(), Some("Borgmesteren (Borgmesterens Afdeling)"));
        assert_eq!(DEPARTMENTS[5].mentions("Teknisk Udvalg behandlede sagen fra MTM"), 2);
    }
}
