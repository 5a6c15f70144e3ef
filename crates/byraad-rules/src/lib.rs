//! Rules look-up: the provisions of the law (kind `lov`) and the council's own rules (kind
//! `haandbog`) by reference ("§ 20, stk. 6", "kommunestyrelseslovens § 11", "KL § 9") or by
//! topic ("habilitet", "hvornår skal dagsordenen sendes ud").
//!
//! Rules documents are segmented at ingest by structure (Kapitel → § → Stk.); each section
//! carries its provision as `item` ("§ 20, stk. 6"). A reference names a provision exactly. A
//! question in a member's own words is matched against every provision the asker may read
//! ([`provisions`]): its words as written and with compounds split ([`terms`]), the law's own
//! words for the everyday phrases it holds ([`thesaurus`]), the provision's context (its
//! paragraph's opening, headings, what it points at) and e5's closeness; a learned ranker
//! ([`ranker`], fit and cross-validated by `byraad train-rules`) weighs them ([`features`]).
#![warn(missing_docs)]

pub mod features;
pub mod provisions;
pub mod ranker;
pub mod reader;
pub mod terms;
pub mod thesaurus;
pub mod train;
pub mod vectors;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use byraad_core::{Clearance, Document, Hit, Kind, Span};
use byraad_index::Retriever;
use regex::Regex;
use serde::Serialize;
use utoipa::ToSchema;

pub use ranker::Ranker;
pub use thesaurus::Thesaurus;
pub use vectors::ProvisionVectors;

use features::Features;
use provisions::Index;
use terms::Terms;

/// The kinds of documents that hold rules.
pub const RULE_KINDS: [Kind; 2] = [Kind::Lov, Kind::Haandbog];

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b([\p{L}\-]+)\s+)?§\s*(\d+)\s*([a-z])?\b(?:\s*,?\s*stk\.?\s*(\d+))?(?:\s*,?\s*nr\.?\s*(\d+))?").expect("valid regex")
});

/// A provision named in a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The word naming the law, lowercased, as written ("kommunestyrelseslovens", "kl").
    pub law: Option<String>,
    /// "§ 10 a".
    pub paragraph: String,
    /// The stk., when named.
    pub stk: Option<u32>,
    /// The numbered item ("nr. 2") of the stk., when named.
    pub nr: Option<u32>,
    /// Bytes of the question the reference takes up.
    pub range: std::ops::Range<usize>,
}

impl Reference {
    /// The first reference in `text`.
    pub fn find(text: &str) -> Option<Self> {
        // "§17, stk. 4-udvalget" names a committee, not a provision.
        let caps = REFERENCE.captures_iter(text).find(|c| {
            let after = &text[c.get(0).map_or(0, |m| m.end())..];
            !(after.starts_with('-') && after[1..].chars().next().is_some_and(char::is_alphabetic))
        })?;
        let whole = caps.get(0)?;
        let law = caps.get(1).map(|m| m.as_str().to_lowercase());
        let mut paragraph = format!("§ {}", &caps[2]);
        if let Some(letter) = caps.get(3) {
            paragraph.push(' ');
            paragraph.push_str(&letter.as_str().to_lowercase());
        }
        let stk = caps.get(4).and_then(|m| m.as_str().parse().ok());
        let nr = caps.get(5).and_then(|m| m.as_str().parse().ok());
        // "om § 11": a preposition is not a law.
        let law = law.filter(|l| !matches!(l.as_str(), "i" | "om" | "efter" | "jf" | "se" | "og" | "eller" | "af" | "til" | "ifølge" | "under"));
        let start = if law.is_some() { whole.start() } else { caps.get(2).map_or(whole.start(), |_| text[..whole.end()].rfind('§').unwrap_or(whole.start())) };
        Some(Self { law, paragraph, stk, nr, range: start..whole.end() })
    }

    /// The section item it names: "§ 20, stk. 6", or "§ 20" for the paragraph (and stk. 1).
    fn item(&self) -> String {
        match self.stk {
            Some(n) if n > 1 => format!("{}, stk. {n}", self.paragraph),
            _ => self.paragraph.clone(),
        }
    }
}

/// A provision found.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Provision {
    /// The law's or handbook's short name ("kommunestyrelsesloven").
    pub law: String,
    /// Its full title, with LBK number and date for a law.
    pub title: String,
    /// "§ 20", or the section heading of a rules text without paragraphs.
    pub paragraph: String,
    /// The stk. (1 for a paragraph's first), or null for a whole paragraph.
    pub stk: Option<u32>,
    /// The numbered item of the stk. ("1) ..."), when one was asked for.
    pub nr: Option<u32>,
    /// "kommunestyrelsesloven § 20, stk. 6".
    pub citation: String,
    /// The provision's text, exactly the document's text at `span`.
    pub text: String,
    /// The document (`GET /v1/documents/{doc_id}`).
    pub doc_id: String,
    /// The provision's bytes in the document text.
    pub span: Span,
    /// A plain-Danish lead for an answer quoting it: "Reglen står i kommunestyrelseslovens § 14,
    /// stk. 1."
    pub lead: String,
    /// The stk. of the same paragraph that complete it: those that point at it ("jf. stk. 1"),
    /// the one after it when that makes an exception ("Stk. 2. ... dog ..."), and those it points
    /// at. Empty for a whole paragraph.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub completed_by: Vec<Completion>,
}

/// A stk. that completes a provision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Completion {
    /// "kommunestyrelsesloven § 14, stk. 2".
    pub citation: String,
    /// Its stk.
    pub stk: u32,
    /// Its text, exactly the document's text at `span`.
    pub text: String,
    /// Its bytes in the document text.
    pub span: Span,
}

/// Most stk. completing one provision.
const MOST_COMPLETIONS: usize = 2;

/// Words that make a stk. an exception to the one before it.
const EXCEPTIONS: &[&str] = &["dog", "uanset", "medmindre", "undtagelse", "undtaget", "bortset"];

/// The stk. of `p`'s paragraph in `doc` that complete it.
fn completions(doc: &Document, p: &Provision) -> Vec<Completion> {
    let Some(n) = p.stk else { return Vec::new() };
    static STK: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // constant pattern
        Regex::new(r"\bstk\.\s*(\d+)").expect("valid regex")
    });
    // "stk. N" not preceded by "§ M," (another paragraph's stk.).
    let points_at = |text: &str| -> Vec<u32> {
        STK.captures_iter(text)
            .filter(|c| !text[..c.get(0).map_or(0, |m| m.start())].trim_end().ends_with(','))
            .filter_map(|c| c[1].parse().ok())
            .collect()
    };
    let mine = points_at(&p.text);
    let mut out = Vec::new();
    for m in 1..=50u32 {
        if m == n {
            continue;
        }
        let item = if m == 1 { p.paragraph.clone() } else { format!("{}, stk. {m}", p.paragraph) };
        let Some(sibling) = provision(doc, &item, false) else {
            if m > n {
                break;
            }
            continue;
        };
        let words = byraad_index::analysis::words(&sibling.text);
        let exception = m == n + 1 && words.iter().any(|w| EXCEPTIONS.contains(&w.lower.as_str()));
        if points_at(&sibling.text).contains(&n) || exception || mine.contains(&m) {
            out.push(Completion { citation: sibling.citation, stk: m, text: sibling.text, span: sibling.span });
        }
        if out.len() >= MOST_COMPLETIONS {
            break;
        }
    }
    out
}

/// "Reglen står i kommunestyrelseslovens § 14, stk. 1." for `law` (a short name) and the
/// provision's place in it.
pub fn lead(law: &str, place: &str) -> String {
    let genitive = if law.ends_with(['s', 'x', 'z']) { law.to_string() } else { format!("{law}s") };
    format!("Reglen står i {genitive} {place}.")
}

/// Looks up provisions.
pub struct Rules {
    retriever: Arc<Retriever>,
    /// Other names of laws (lowercase) → their short names ("kl" → "kommunestyrelsesloven").
    aliases: HashMap<String, String>,
    thesaurus: Thesaurus,
    ranker: Ranker,
    /// The provisions of every rules document, for the index generation they were read from.
    index: Mutex<Option<(u64, Arc<Index>)>>,
    /// The provisions' e5 vectors, kept by text.
    vectors: ProvisionVectors,
    /// The text a bare reference means first (short name).
    primary: Option<String>,
    /// The reader: e5 trained on members' questions and their governing provisions, whose
    /// closeness of question and provision replaces e5's own (`rules.reader`).
    reader: Option<Arc<dyn byraad_embed::Embedder>>,
}

/// A question made ready to rank: the provisions it may be answered from, measured.
pub struct Prepared {
    /// Every provision of the rules documents.
    pub index: Arc<Index>,
    /// The provisions the asker may read (indices into `index.entries`).
    pub readable: Vec<usize>,
    /// Their features, in the order of `readable`.
    pub features: Vec<Features>,
    /// Whether the features hold e5's closeness.
    pub dense: bool,
}

impl Rules {
    /// Rules in the documents `retriever` searches; `aliases` map other names of a law to its
    /// short name; `thesaurus` bridges members' words to the law's; `ranker` weighs the features.
    pub fn new(retriever: Arc<Retriever>, aliases: HashMap<String, String>, thesaurus: Thesaurus, ranker: Ranker) -> Self {
        let aliases = aliases.into_iter().map(|(k, v)| (k.to_lowercase(), v.to_lowercase())).collect();
        Self { retriever, aliases, thesaurus, ranker, index: Mutex::new(None), vectors: ProvisionVectors::in_memory(), primary: None, reader: None }
    }

    /// The same, keeping the provisions' vectors in `vectors` (a file, so that a restart does
    /// not embed them again).
    pub fn with_vectors(mut self, vectors: ProvisionVectors) -> Self {
        self.vectors = vectors;
        self
    }

    /// The same, measuring closeness of question and provision with `reader` (the provision
    /// read as [`Index::passage`]) rather than with the retriever's embedder.
    #[must_use]
    pub fn with_reader(mut self, reader: Arc<dyn byraad_embed::Embedder>) -> Self {
        self.reader = Some(reader);
        self
    }

    /// The embedder closeness is measured with, and whether it is the reader.
    fn closeness_model(&self) -> Option<(&dyn byraad_embed::Embedder, bool)> {
        match &self.reader {
            Some(reader) => Some((reader.as_ref(), true)),
            None => self.retriever.dense().map(|d| (d.embedder.as_ref(), false)),
        }
    }

    /// The same, a bare reference ("§ 8, stk. 4") meaning the provision of the text `primary` (a
    /// short name or an alias) first, the other texts' of that number after it.
    #[must_use]
    pub fn with_primary(mut self, primary: &str) -> Self {
        let name = primary.trim().to_lowercase();
        self.primary = (!name.is_empty()).then(|| self.aliases.get(&name).cloned().unwrap_or(name));
        self
    }

    /// The provisions `query` names or is about, best first: a named provision first, then,
    /// when the query says more than the reference, the provisions about it, by the ranker. Only
    /// rules documents `clearance` may read are looked in.
    pub fn lookup(&self, query: &str, limit: usize, law: Option<&str>, clearance: &Clearance) -> byraad_index::Result<Vec<Provision>> {
        let mut docs = self.documents(clearance)?;
        // The rules text asked for, by the caller or by the question itself ("ifølge
        // forretningsordenen"): two texts number their paragraphs alike.
        let source = match law {
            Some(l) => Some(self.law_named(&l.to_lowercase(), &docs).ok_or_else(|| {
                let names: Vec<String> = docs.iter().map(|d| short_name(&d.meta.title)).collect();
                byraad_core::Error::invalid("law", format!("no rules text {l:?}; there are: {}", names.join(", ")))
            })?),
            None => self.source_named(query, &docs),
        };
        if let Some(name) = &source {
            docs.retain(|d| short_name(&d.meta.title) == *name);
        }
        let (mut out, topic) = self.named_in(query, &docs);
        // The provisions about the topic: the query without its reference, when it says more.
        let says_more = !byraad_index::analysis::content_words(&topic).is_empty();
        if out.len() < limit && says_more {
            let prepared = self.prepare(topic.trim(), source.as_deref(), clearance)?;
            let scores: Vec<f32> = prepared.features.iter().map(|f| self.ranker.score(f, prepared.dense)).collect();
            let mut order: Vec<usize> = (0..prepared.readable.len()).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            for k in order {
                let entry = &prepared.index.entries[prepared.readable[k]];
                let doc = &prepared.index.docs[entry.doc];
                if let Some(p) = provision(doc, &entry.item, false)
                    && !out.iter().any(|o| o.doc_id == p.doc_id && o.span == p.span)
                {
                    out.push(p);
                }
                if out.len() >= limit {
                    break;
                }
            }
        }
        out.truncate(limit);
        for p in &mut out {
            if let Some(doc) = docs.iter().find(|d| d.meta.doc_id == p.doc_id) {
                p.completed_by = completions(doc, p);
            }
        }
        Ok(out)
    }

    /// `query` (a question in a member's words) made ready to rank against the provisions
    /// `clearance` may read (of the rules text named `source` only, when given).
    pub fn prepare(&self, query: &str, source: Option<&str>, clearance: &Clearance) -> byraad_index::Result<Prepared> {
        self.prepare_with(query, source, clearance, None)
    }

    /// The same, with the closeness of `query` to every provision (in the order of
    /// `Index::entries`) given rather than measured: a reader's held out, for training the
    /// ranker on closeness the reader was not fit on.
    pub fn prepare_with(&self, query: &str, source: Option<&str>, clearance: &Clearance, closeness: Option<&[f32]>) -> byraad_index::Result<Prepared> {
        let index = self.index()?;
        let mut readable_docs: HashSet<String> = self.retriever.lexical().documents_of_kind(&RULE_KINDS, clearance)?.into_iter().collect();
        if let Some(name) = source {
            readable_docs.retain(|id| index.docs.iter().any(|d| d.meta.doc_id == *id && short_name(&d.meta.title) == name));
        }
        let readable: Vec<usize> = (0..index.entries.len()).filter(|&i| readable_docs.contains(&index.docs[index.entries[i].doc].meta.doc_id)).collect();
        let terms = Terms::of(query, &index.vocabulary);
        let expanded = self.thesaurus.expand(&terms);
        let cosines = match closeness {
            Some(all) if all.len() == index.entries.len() => readable.iter().map(|&i| all[i]).collect(),
            Some(all) => return Err(byraad_index::Error::Corrupt(format!("closeness to {} provisions given where there are {}", all.len(), index.entries.len()))),
            None => self.closeness(&index, &readable, query),
        };
        let features = features::features(&index, &readable, &terms, &expanded, &cosines);
        Ok(Prepared { index, readable, features, dense: !cosines.is_empty() })
    }

    /// e5's cosine of `query` to each provision of `readable` (indices into `index.entries`),
    /// in that order. Empty without dense retrieval, or when embedding fails (the ranker then
    /// reads the words alone).
    fn closeness(&self, index: &Index, readable: &[usize], query: &str) -> Vec<f32> {
        let Some((embedder, _)) = self.closeness_model() else { return Vec::new() };
        if index.vectors.is_empty() {
            return Vec::new();
        }
        match embedder.embed(&[query], byraad_embed::Role::Query).map(|v| v.into_iter().next().unwrap_or_default()) {
            Ok(vector) => readable.iter().map(|&i| byraad_embed::cosine(&vector, &index.vectors[i])).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot embed the question; ranking the provisions by words alone");
                Vec::new()
            }
        }
    }

    /// Reads the rules texts and builds the provision index now, so that the first look-up
    /// does not wait for it.
    pub fn warm(&self) -> byraad_index::Result<usize> {
        Ok(self.index()?.entries.len())
    }

    /// The provisions of every rules document, read once per index generation.
    fn index(&self) -> byraad_index::Result<Arc<Index>> {
        let generation = self.retriever.lexical().generation();
        let mut cached = self.index.lock().map_err(|_| byraad_index::Error::Corrupt("rules index lock poisoned".into()))?;
        if let Some((g, index)) = cached.as_ref()
            && *g == generation
        {
            return Ok(index.clone());
        }
        let docs = self.all_documents()?;
        let mut index = Index::build(docs);
        if let Some((embedder, reader)) = self.closeness_model() {
            let texts: Vec<String> = (0..index.entries.len()).map(|i| if reader { index.passage(i) } else { index.entries[i].written.clone() }).collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            match self.vectors.vectors(embedder, &texts) {
                Ok(vectors) => index.vectors = vectors,
                Err(e) => tracing::warn!(error = %e, "cannot embed the provisions; ranking them without their own vectors"),
            }
        }
        let index = Arc::new(index);
        *cached = Some((generation, index.clone()));
        Ok(index)
    }

    /// The provisions `text` names by reference (none when it names none), as search hits: what
    /// answers quote when a member asks about "§ 20, stk. 6".
    pub fn named(&self, text: &str, clearance: &Clearance) -> byraad_index::Result<Vec<Hit>> {
        let docs = self.documents(clearance)?;
        let (mut named, _) = self.named_in(text, &docs);
        // An answer quotes the text the reference means (the first), not every text with that number.
        if let Some(first) = named.first().map(|p| p.law.clone()) {
            named.retain(|p| p.law == first);
        }
        // Each provision, then the stk. that complete it.
        let mut provisions: Vec<Provision> = Vec::new();
        for p in named {
            let more: Vec<Provision> = docs
                .iter()
                .find(|d| d.meta.doc_id == p.doc_id)
                .map(|doc| completions(doc, &p).into_iter().filter_map(|c| provision(doc, &if c.stk == 1 { p.paragraph.clone() } else { format!("{}, stk. {}", p.paragraph, c.stk) }, false)).collect())
                .unwrap_or_default();
            provisions.push(p);
            for m in more {
                if !provisions.iter().any(|o| o.span == m.span) {
                    provisions.push(m);
                }
            }
        }
        Ok(provisions
            .into_iter()
            .filter_map(|p| {
                let doc = docs.iter().find(|d| d.meta.doc_id == p.doc_id)?;
                let section = doc.sections.iter().rfind(|s| s.span.start <= p.span.start && p.span.start < s.span.end)?;
                let mut item = match p.stk {
                    Some(n) if n > 1 => format!("{}, stk. {n}", p.paragraph),
                    _ => p.paragraph.clone(),
                };
                if let Some(nr) = p.nr {
                    item.push_str(&format!(", nr. {nr}"));
                }
                Some(Hit {
                    chunk_id: format!("{}#{item}", p.doc_id),
                    doc_id: p.doc_id.clone(),
                    title: doc.meta.title.clone(),
                    kind: doc.meta.kind,
                    body: doc.meta.body.clone(),
                    date: doc.meta.date.map(|d| d.to_string()),
                    item: Some(item),
                    case: None,
                    page: None,
                    heading: section.heading.join(" › "),
                    source: doc.meta.source.clone(),
                    snippet: p.text.chars().take(200).collect(),
                    text: p.text,
                    score: 1.0,
                    ocr: doc.ocr_at(p.span.start),
                    span: p.span,
                    retrievers: vec!["reference".to_string()],
                    merged: Vec::new(),
                    also: Vec::new(),
                })
            })
            .collect())
    }

    /// The rules documents `clearance` may read.
    /// Read from the provision index (parsed once per index generation): a look-up never parses
    /// a document, whatever other searches have pushed out of the document cache meanwhile.
    fn documents(&self, clearance: &Clearance) -> byraad_index::Result<Vec<Arc<Document>>> {
        let index = self.index()?;
        let readable: HashSet<String> = self.retriever.lexical().documents_of_kind(&RULE_KINDS, clearance)?.into_iter().collect();
        Ok(index.docs.iter().filter(|d| readable.contains(&d.meta.doc_id)).cloned().collect())
    }

    /// Every rules document, read from the index.
    fn all_documents(&self) -> byraad_index::Result<Vec<Arc<Document>>> {
        let lexical = self.retriever.lexical();
        let mut docs = Vec::new();
        for id in lexical.documents_of_kind(&RULE_KINDS, &Clearance::everything())? {
            docs.extend(lexical.shared_document(&id)?);
        }
        Ok(docs)
    }

    /// The provisions `query` names, and the query without the reference.
    fn named_in(&self, query: &str, docs: &[Arc<Document>]) -> (Vec<Provision>, String) {
        let mut out = Vec::new();
        let mut rest = query.to_string();
        if let Some(r) = Reference::find(query) {
            let law = r.law.as_deref().and_then(|l| self.law_named(l, docs));
            // A law that is not among the rules ("forvaltningslovens § 3") has no provision here.
            let unknown_law = law.is_none() && r.law.as_deref().is_some_and(names_a_law);
            if !unknown_law {
                for doc in docs.iter().filter(|d| law.as_ref().is_none_or(|l| short_name(&d.meta.title) == *l)) {
                    let found = provision(doc, &r.item(), r.stk.is_none() && r.nr.is_none());
                    out.extend(match r.nr {
                        Some(nr) => found.and_then(|p| numbered(doc, p, nr)),
                        None => found,
                    });
                }
                // A bare reference means the primary text's provision first; the other texts'
                // provisions of that number follow.
                if law.is_none() && let Some(primary) = &self.primary {
                    out.sort_by_key(|p| p.law != *primary);
                }
            }
            rest.replace_range(r.range.clone(), " ");
        }
        (out, rest)
    }

    /// The rules text a question names in so many words ("ifølge forretningsordenen",
    /// "styrelsesvedtægtens regler"), when it names one of `docs`.
    fn source_named(&self, query: &str, docs: &[Arc<Document>]) -> Option<String> {
        byraad_index::analysis::words(query).iter().filter(|w| names_a_law(&w.lower) || self.aliases.contains_key(&w.lower)).find_map(|w| self.law_named(&w.lower, docs))
    }

    /// The short name of the law `word` names: an alias, the name itself or its genitive.
    fn law_named(&self, word: &str, docs: &[Arc<Document>]) -> Option<String> {
        // "forretningsordenens" names "Forretningsorden for Aarhus Byråd", "valglovens" the alias
        // "valgloven".
        let forms = [Some(word), word.strip_suffix('s'), word.strip_suffix("ens").map(|w| w.trim_end_matches('e')), word.strip_suffix("en"), word.strip_suffix("ens"), word.strip_suffix("ns"), word.strip_suffix('n')];
        if let Some(name) = forms.iter().flatten().find_map(|w| self.aliases.get(*w)) {
            return Some(name.clone());
        }
        let names: Vec<String> = docs.iter().map(|d| short_name(&d.meta.title)).collect();
        names.into_iter().find(|n| forms.iter().flatten().any(|w| n == w || n.starts_with(&format!("{w} "))))
    }
}

/// Whether `word` reads as the name of a law or rules text ("forvaltningslovens",
/// "styrelsesvedtægten", "forretningsorden").
fn names_a_law(word: &str) -> bool {
    let word = word.trim_end_matches('s');
    ["lov", "loven", "vedtægt", "vedtægten", "orden", "ordenen", "bekendtgørelse", "bekendtgørelsen"].iter().any(|end| word.ends_with(end))
}

/// A law's short name: its title before the parenthesis, lowercased ("Kommunestyrelsesloven
/// (LBK nr. 13 af 5. januar 2026)" → "kommunestyrelsesloven").
pub fn short_name(title: &str) -> String {
    title.split(" (").next().unwrap_or(title).trim().to_lowercase()
}

/// Item `nr` ("2) ...") of the stk. `p`: its text up to the next item or the end.
fn numbered(doc: &Document, mut p: Provision, nr: u32) -> Option<Provision> {
    let opens = |n: u32| Regex::new(&format!(r"(?:^|\s){n}\) ")).ok();
    let start = opens(nr)?.find(&p.text)?.start();
    let start = start + p.text[start..].len() - p.text[start..].trim_start().len();
    let end = opens(nr + 1).and_then(|r| r.find(&p.text[start..])).map_or(p.text.len(), |m| start + m.start());
    let text = p.text[start..end].trim_end();
    let from = p.span.start + start;
    p.span = Span::new(from, from + text.len());
    debug_assert_eq!(&doc.text[p.span.start..p.span.end], text);
    p.text = text.to_string();
    p.citation = format!("{}, nr. {nr}", p.citation);
    p.lead = format!("{}, nr. {nr}.", p.lead.trim_end_matches('.'));
    if p.stk.is_none() {
        p.stk = Some(1);
    }
    p.nr = Some(nr);
    Some(p)
}

/// The provision `item` of `doc`; `whole`: a paragraph with all its stk.
pub(crate) fn provision(doc: &Document, item: &str, whole: bool) -> Option<Provision> {
    let first = doc.sections.iter().position(|s| s.item.as_deref() == Some(item))?;
    let paragraph = item.split(", stk.").next().unwrap_or(item).to_string();
    let mut end = doc.sections[first].span.end;
    if whole {
        let prefix = format!("{paragraph}, stk.");
        for s in &doc.sections[first + 1..] {
            match s.item.as_deref() {
                Some(i) if i.starts_with(&prefix) => end = s.span.end,
                _ => break,
            }
        }
    }
    // The section starts with its Markdown heading ("## § 20"): the provision is the text.
    let start = doc.sections[first].span.start;
    let raw = &doc.text[start..end];
    let skip: usize = raw.split_inclusive('\n').take_while(|l| l.starts_with('#') || l.trim().is_empty()).map(str::len).sum();
    let body = raw[skip..].trim_end();
    let span = Span::new(start + skip, start + skip + body.len());
    let stk = if whole { None } else { Some(item.split(", stk. ").nth(1).and_then(|n| n.parse().ok()).unwrap_or(1)) };
    let law = short_name(&doc.meta.title);
    let citation = match stk {
        Some(n) if n > 1 => format!("{law} {paragraph}, stk. {n}"),
        _ => format!("{law} {paragraph}"),
    };
    let place = citation.strip_prefix(&format!("{law} ")).unwrap_or(&citation).to_string();
    Some(Provision { lead: lead(&law, &place), law, title: doc.meta.title.clone(), paragraph, stk, nr: None, citation, text: body.to_string(), doc_id: doc.meta.doc_id.clone(), span, completed_by: Vec::new() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbered_items_are_read() {
        let found = Reference::find("§ 65 d, stk. 2, nr. 3").unwrap();
        assert_eq!((found.paragraph.as_str(), found.stk, found.nr), ("§ 65 d", Some(2), Some(3)));
    }

    fn r(text: &str) -> (Option<String>, String, Option<u32>) {
        let r = Reference::find(text).unwrap_or_else(|| panic!("no reference in {text:?}"));
        (r.law, r.paragraph, r.stk)
    }

    #[test]
    fn references_are_read_however_written() {
        assert_eq!(r("§ 20, stk. 6"), (None, "§ 20".into(), Some(6)));
        assert_eq!(r("§20 stk 6"), (None, "§ 20".into(), Some(6)));
        assert_eq!(r("kommunestyrelseslovens § 11"), (Some("kommunestyrelseslovens".into()), "§ 11".into(), None));
        assert_eq!(r("KL § 9"), (Some("kl".into()), "§ 9".into(), None));
        assert_eq!(r("§10a"), (None, "§ 10 a".into(), None));
        assert_eq!(r("Hvad siger § 64 a om udvalg?"), (Some("siger".into()), "§ 64 a".into(), None));
        assert_eq!(r("jf. § 14, stk. 3"), (None, "§ 14".into(), Some(3)));
        assert!(Reference::find("habilitet").is_none());
        assert!(Reference::find("Hvad anbefaler §17, stk. 4-udvalget Nyt Byråd?").is_none(), "a committee's name");
        assert_eq!(r("§ 17, stk. 4-udvalget henviser til § 20"), (None, "§ 20".into(), None));
        let q = "Hvad står der om § 8, stk. 4?";
        let found = Reference::find(q).unwrap();
        assert_eq!(&q[found.range], "§ 8, stk. 4");
    }

    #[test]
    fn a_lead_names_the_provision_in_plain_danish() {
        assert_eq!(lead("kommunestyrelsesloven", "§ 14, stk. 1"), "Reglen står i kommunestyrelseslovens § 14, stk. 1.");
        assert_eq!(lead("forretningsorden for aarhus byråd", "§ 5"), "Reglen står i forretningsorden for aarhus byråds § 5.");
    }

    #[test]
    fn short_names_come_from_titles() {
        assert_eq!(short_name("Kommunestyrelsesloven (LBK nr. 13 af 5. januar 2026)"), "kommunestyrelsesloven");
        assert_eq!(short_name("Styrelsesvedtægt for Aarhus Kommune"), "styrelsesvedtægt for aarhus kommune");
    }
}
