//! The dense half of retrieval: an embedder and a vector store, written at ingest and searched
//! with the same filters as the lexical index.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use byraad_core::{Chunk, Clearance, Document, Filters};
use byraad_embed::{Embedder, Role};
use byraad_vector::{VectorFilter, VectorHit, VectorPayload, VectorPoint, VectorStore};
use chrono::Datelike;
use sha2::{Digest, Sha256};

use crate::Result;

/// An embedder and the store of its vectors.
#[derive(Clone)]
pub struct Dense {
    /// Turns text into vectors.
    pub embedder: Arc<dyn Embedder>,
    /// Holds chunk vectors.
    pub store: Arc<dyn VectorStore>,
    /// Chunks per embedding call while ingesting.
    pub batch_size: usize,
}

/// Bumped whenever [`passage_text`] changes what is embedded; part of every file's fingerprint
/// when vectors are written, so the next ingest embeds everything again.
pub const PASSAGE_VERSION: u32 = 2;

/// The text embedded for a chunk: its headings, then its text, so that a passage deep in an
/// item still carries what the item is about. A case's section is embedded as the case's item,
/// not as one meeting's: without the meeting's title and the item's number in that meeting. A
/// case passes committee, Økonomiudvalget and Byråd with the same text, which is then one
/// passage, embedded once (see [`PassageVectors`]); its meeting, body and date are in the
/// chunk's fields, where filters and ranking read them. Any other section keeps its
/// document's title in front.
pub fn passage_text(doc: &Document, chunk: &Chunk) -> String {
    let section = &doc.sections[chunk.section];
    let headings: Vec<&str> = match &section.case {
        Some(_) => section.heading.iter().map(|h| without_item_number(h, section.item.as_deref())).collect(),
        None => std::iter::once(doc.meta.title.as_str()).chain(section.heading.iter().map(String::as_str)).collect(),
    };
    if headings.is_empty() {
        chunk.text.clone()
    } else {
        format!("{}\n{}", headings.join(" › "), chunk.text)
    }
}

/// `heading` without its item's number in front ("Punkt 4: Takster 2025" → "Takster 2025").
fn without_item_number<'a>(heading: &'a str, item: Option<&str>) -> &'a str {
    let Some(item) = item else { return heading };
    ["Punkt ", ""]
        .iter()
        .find_map(|lead| {
            let rest = heading.strip_prefix(lead)?.strip_prefix(item)?;
            [": ", ". "].iter().find_map(|sep| rest.strip_prefix(sep))
        })
        .filter(|rest| !rest.trim().is_empty())
        .unwrap_or(heading)
}

/// Vectors of the passages one ingest has embedded, by the passage's SHA-256: a passage met
/// again (the same case text in another meeting) is not embedded again. Holds the most recent
/// [`PassageVectors::CAPACITY`] passages.
#[derive(Default)]
pub struct PassageVectors {
    vectors: HashMap<[u8; 32], Vec<f32>>,
    order: VecDeque<[u8; 32]>,
    /// Passages embedded.
    pub embedded: usize,
    /// Passages whose vector was already held.
    pub reused: usize,
}

impl PassageVectors {
    /// Passages held at most (some 50 MB of 384-dimensional vectors).
    pub const CAPACITY: usize = 32_768;

    /// The vectors of `texts`, embedding only those not held.
    fn embed(&mut self, embedder: &dyn Embedder, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| Sha256::digest(t.as_bytes()).into()).collect();
        let mut missing: Vec<usize> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if !self.vectors.contains_key(key) && !missing.iter().any(|&j| keys[j] == *key) {
                missing.push(i);
            }
        }
        let refs: Vec<&str> = missing.iter().map(|&i| texts[i].as_str()).collect();
        let fresh = if refs.is_empty() { Vec::new() } else { embedder.embed(&refs, Role::Passage)? };
        self.embedded += fresh.len();
        self.reused += texts.len() - fresh.len();
        for (&i, vector) in missing.iter().zip(fresh) {
            if self.order.len() == Self::CAPACITY
                && let Some(old) = self.order.pop_front()
            {
                self.vectors.remove(&old);
            }
            self.order.push_back(keys[i]);
            self.vectors.insert(keys[i], vector);
        }
        Ok(keys.iter().map(|k| self.vectors[k].clone()).collect())
    }
}

/// A date as YYYYMMDD.
pub fn date_number(d: chrono::NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

impl Dense {
    /// Embeds and stores the chunks of one version (`fingerprint`) of `source`, then deletes the
    /// source's vectors of any other version. Passages `held` already has are not embedded again.
    pub fn write(&self, source: &str, fingerprint: &str, docs: &[(Document, Vec<Chunk>)], held: &mut PassageVectors) -> Result<usize> {
        let mut written = 0;
        for (doc, chunks) in docs {
            for batch in chunks.chunks(self.batch_size) {
                let texts: Vec<String> = batch.iter().map(|c| passage_text(doc, c)).collect();
                let vectors = held.embed(self.embedder.as_ref(), &texts)?;
                let m = &doc.meta;
                let points = batch
                    .iter()
                    .zip(vectors)
                    .map(|(c, vector)| VectorPoint {
                        vector,
                        payload: VectorPayload {
                            chunk_id: c.chunk_id.clone(),
                            doc_id: m.doc_id.clone(),
                            source: source.to_string(),
                            fingerprint: fingerprint.to_string(),
                            kind: m.kind.as_str().to_string(),
                            body: m.body.to_lowercase(),
                            date: m.date.map(date_number),
                            case: doc.sections[c.section].case.clone(),
                            access: m.access.as_str().to_string(),
                            groups: m.groups.clone(),
                        },
                    })
                    .collect();
                written += batch.len();
                self.store.upsert(points)?;
            }
        }
        self.store.delete_source(source, Some(fingerprint))?;
        Ok(written)
    }

    /// The nearest chunks to `query`, filters applied inside the vector search.
    pub fn search(&self, query: &str, filters: &Filters, clearance: &Clearance, limit: usize) -> Result<Vec<VectorHit>> {
        let vector = self.query_vector(query)?;
        let filter = VectorFilter {
            kinds: filters.kind.iter().map(|k| k.as_str().to_string()).collect(),
            bodies: filters.body.iter().map(|b| b.to_lowercase()).collect(),
            date_from: filters.date_from()?.map(date_number),
            date_to: filters.date_to()?.map(date_number),
            case: filters.case.as_ref().map(|c| c.trim().to_uppercase()),
            sources: Vec::new(),
            clearance: clearance.clone(),
        };
        Ok(self.store.search(&vector, &filter, limit)?)
    }

    /// `query`'s vector (e5's `query:`).
    pub fn query_vector(&self, query: &str) -> Result<Vec<f32>> {
        Ok(self.embedder.embed(&[query], Role::Query)?.into_iter().next().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use byraad_core::{Access, DocumentMeta, Kind, Section, Span};

    use super::*;

    /// Counts the texts it embeds; a text's vector is its length.
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn model(&self) -> &str {
            "counting"
        }
        fn dim(&self) -> usize {
            1
        }
        fn embed(&self, texts: &[&str], _role: Role) -> byraad_embed::Result<Vec<Vec<f32>>> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
    }

    fn meeting(title: &str, number: &str, case: Option<&str>) -> (Document, Chunk) {
        let text = "Udvalget godkendte taksterne.".to_string();
        let meta = DocumentMeta {
            doc_id: title.to_string(),
            source: format!("{title}.json"),
            title: title.to_string(),
            kind: Kind::Referat,
            body: String::new(),
            date: None,
            access: Access::Public,
            groups: Vec::new(),
        };
        let heading = vec![format!("Punkt {number}: Takster 2025"), "Beslutning".to_string()];
        let section = Section { heading, item: Some(number.to_string()), case: case.map(str::to_string), span: Span::new(0, text.len()), closed: false };
        let chunk = Chunk { chunk_id: format!("{title}-c"), doc_id: title.to_string(), section: 0, text: text.clone(), span: Span::new(0, text.len()), page: None };
        (Document { meta, text, page_breaks: Vec::new(), sections: vec![section], ocr_pages: Vec::new() }, chunk)
    }

    #[test]
    fn a_cases_passage_is_embedded_as_the_cases_item_and_anything_else_with_its_document() {
        let (doc, chunk) = meeting("Byrådet: møde 3. juni 2025", "12", Some("25-001234"));
        assert_eq!(passage_text(&doc, &chunk), "Takster 2025 › Beslutning\nUdvalget godkendte taksterne.");
        let (doc, chunk) = meeting("Byrådet: møde 3. juni 2025", "12", None);
        assert_eq!(passage_text(&doc, &chunk), "Byrådet: møde 3. juni 2025 › Punkt 12: Takster 2025 › Beslutning\nUdvalget godkendte taksterne.");
        assert_eq!(without_item_number("3. Lokalplan 1201", Some("3")), "Lokalplan 1201");
        assert_eq!(without_item_number("Punkt 3: ", Some("3")), "Punkt 3: ", "a heading that is only a number keeps it");
        assert_eq!(without_item_number("31. Budget", Some("3")), "31. Budget");
    }

    #[test]
    fn the_same_case_text_in_another_meeting_is_embedded_once() {
        let e = Counting(AtomicUsize::new(0));
        let mut held = PassageVectors::default();
        let (committee, c1) = meeting("Teknik- og Miljøudvalget: møde 12. maj 2025", "4", Some("25-001234"));
        let (council, c2) = meeting("Byrådet: møde 3. juni 2025", "12", Some("25-001234"));
        let texts = [passage_text(&committee, &c1), passage_text(&council, &c2)];
        let first = held.embed(&e, &texts[..1]).unwrap();
        let both = held.embed(&e, &texts).unwrap();
        assert_eq!(both, vec![first[0].clone(), first[0].clone()]);
        assert_eq!((e.0.load(Ordering::SeqCst), held.embedded, held.reused), (1, 1, 2));
        // A text twice in one call is embedded once; other texts are embedded.
        let (other, c3) = meeting("Økonomiudvalget: møde 20. maj 2025", "7", None);
        let t = passage_text(&other, &c3);
        assert_eq!(held.embed(&e, &[t.clone(), t]).unwrap().len(), 2);
        assert_eq!(e.0.load(Ordering::SeqCst), 2);
    }
}
