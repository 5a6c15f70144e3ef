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
}

/// "stk. 3", "§ 24, stk. 1", "§ 9 b": what a provision points at.
static POINTS_AT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant pattern
    Regex::new(r"(?:§\s*(\d+(?:\s[a-z]\b)?)\s*,\s*)?\bstk\.\s*(\d+)").expect("valid regex")
});

impl Index {
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
                let mut context = section.heading.join(" ");
                if stk > 1
                    && let Some(opening) = texts.get(paragraph.as_str())
                {
                    context.push(' ');
                    context.push_str(opening);
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
                entries.push(Entry {
                    doc: d,
                    item: item.to_string(),
                    paragraph,
                    stk,
                    start: p.span.start,
                    words: p.text.split_whitespace().count(),
                    text: Terms::of(&p.text, &vocabulary),
                    context: Terms::of(&context, &vocabulary),
                });
            }
        }
        Self { docs, entries, vocabulary }
    }

    /// The provision holding byte `at` of document `doc_id`: the last starting at or before it.
    pub fn at(&self, doc_id: &str, at: usize) -> Option<usize> {
        let d = self.docs.iter().position(|doc| doc.meta.doc_id == doc_id)?;
        self.entries.iter().enumerate().filter(|(_, e)| e.doc == d && e.start <= at).max_by_key(|(_, e)| e.start).map(|(i, _)| i)
    }
}
