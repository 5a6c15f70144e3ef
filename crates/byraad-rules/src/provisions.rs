//! The provisions of the rules texts as the look-up searches them: each stk. with what a member
//! would look for it by, beside its own words: its paragraph's opening, its section headings
//! (chapter), and the provisions it points at ("jf. stk. 1", "§ 24, stk. 1").

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use byraad_core::Document;
use regex::Regex;

use crate::provision;
use crate::terms::{Terms, Vocabulary};

/// One provision.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index of its document in [`Index::docs`].
    pub doc: usize,
    /// Its section's item: "§ 8, stk. 4", "§ 8" (the paragraph's first stk.).
    pub item: String,
    /// Its paragraph: "§ 8".
    pub paragraph: String,
    /// Its stk. (1 for the paragraph's opening).
    pub stk: u32,
    /// Its first byte in the document.
    pub start: usize,
    /// Its own words.
    pub text: Terms,
    /// The words of its paragraph's opening (for a later stk.), its headings and what it points at.
    pub context: Terms,
    /// Its length in words.
    pub words: usize,
    /// Its text as written, and its section headings (chapter), joined.
    pub written: String,
    /// See `written`.
    pub headings: String,
    /// Its paragraph's opening (the first stk.), for a later stk.; empty for the first.
    pub opening: String,
    /// How often each term occurs, per field the ranker matches ([`Field`]).
    pub counts: [Counts; 4],
}

/// Term counts of one field of a provision, and its length.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Term → occurrences.
    pub tf: HashMap<String, f32>,
    /// Terms in all.
    pub len: f32,
}

impl Counts {
    fn of<'a>(terms: impl Iterator<Item = &'a String>) -> Self {
        let mut tf: HashMap<String, f32> = HashMap::new();
        let mut len = 0.0;
        for t in terms {
            *tf.entry(t.clone()).or_default() += 1.0;
            len += 1.0;
        }
        Self { tf, len }
    }
}

/// The fields of a provision the ranker matches a query against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Its own words as written.
    Text = 0,
    /// Its own words with the parts of compounds.
    Parts = 1,
    /// Its context, with parts.
    Context = 2,
    /// Its own words and its context, with parts.
    Wide = 3,
}

/// Every provision of a set of rules documents.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// The documents.
    pub docs: Vec<Arc<Document>>,
    /// Their provisions, in document order.
    pub entries: Vec<Entry>,
    /// The words of their texts, for splitting compounds.
    pub vocabulary: Vocabulary,
    /// The provisions' e5 vectors, in the order of `entries` (empty without an embedder).
    pub vectors: Vec<Vec<f32>>,
}

/// "stk. 3", "§ 24, stk. 1", "§ 9 b": what a provision points at.
static POINTS_AT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    Regex::new(r"(?:§\s*(\d+(?:\s[a-z]\b)?)\s*,\s*)?\bstk\.\s*(\d+)").expect("valid regex")
});

/// Characters of a paragraph's opening kept in front of a later stk. in [`Index::passage`].
const OPENING_CHARS: usize = 400;

impl Index {
    /// What the reader reads of provision `i`: its text's name and place, its headings, for a
    /// later stk. the start of its paragraph's opening, then its own words.
    pub fn passage(&self, i: usize) -> String {
        let e = &self.entries[i];
        let law = crate::short_name(&self.docs[e.doc].meta.title);
        let mut out = format!("{law} {}", e.item);
        if !e.headings.is_empty() {
            out.push_str(": ");
            out.push_str(&e.headings);
        }
        out.push('\n');
        if !e.opening.is_empty() {
            let cut = e.opening.char_indices().nth(OPENING_CHARS).map_or(e.opening.len(), |(b, _)| b);
            out.push_str(&e.opening[..cut]);
            out.push_str(if cut < e.opening.len() { " … " } else { " " });
        }
        out.push_str(&e.written);
        out
    }

    /// The provisions of `docs`.
    pub fn build(docs: Vec<Arc<Document>>) -> Self {
        let vocabulary = Vocabulary::of(docs.iter().map(|d| d.text.as_str()));
        let mut entries = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            let texts: HashMap<&str, String> = doc
                .sections
                .iter()
                .filter_map(|s| s.item.as_deref())
                .filter_map(|item| provision(doc, item, false).map(|p| (item, p.text)))
                .collect();
            for section in &doc.sections {
                let Some(item) = section.item.as_deref() else { continue };
                let Some(p) = provision(doc, item, false) else { continue };
                let paragraph = p.paragraph.clone();
                let stk = p.stk.unwrap_or(1);
                let headings = section.heading.join(" ");
                let mut context = headings.clone();
                let opening = if stk > 1 { texts.get(paragraph.as_str()).cloned().unwrap_or_default() } else { String::new() };
                if !opening.is_empty() {
                    context.push(' ');
                    context.push_str(&opening);
                }
                for caps in POINTS_AT.captures_iter(&p.text) {
                    let target = match caps.get(1) {
                        Some(par) => format!("§ {}, stk. {}", par.as_str(), &caps[2]),
                        None => format!("{paragraph}, stk. {}", &caps[2]),
                    };
                    let target = target.strip_suffix(", stk. 1").map_or(target.clone(), str::to_string);
                    if target != item
                        && let Some(text) = texts.get(target.as_str())
                    {
                        context.push(' ');
                        context.push_str(text);
                    }
                }
                let text = Terms::of(&p.text, &vocabulary);
                let context = Terms::of(&context, &vocabulary);
                let counts = [Counts::of(text.stems.iter()), Counts::of(text.all()), Counts::of(context.all()), Counts::of(text.all().chain(context.all()))];
                entries.push(Entry { doc: d, item: item.to_string(), paragraph, stk, start: p.span.start, words: p.text.split_whitespace().count(), text, context, counts, written: p.text.clone(), headings, opening });
            }
        }
        Self { docs, entries, vocabulary, vectors: Vec::new() }
    }
}
