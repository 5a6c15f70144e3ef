//! What the rules ranker reads of a provision for a query: how well the query's words match its
//! own text (as written, and with compounds split), its context, the law's words the thesaurus
//! brings, and how close e5 puts them (the provision's own text); and whether it opens its paragraph, and its length. Each
//! method is one feature, so each can be left out and its gain measured (`byraad train-rules`).

use std::collections::HashSet;

use crate::provisions::{Counts, Field, Index};
use crate::terms::Terms;

/// The features' names, in order.
pub const NAMES: [&str; COUNT] = ["text", "parts", "context", "thesaurus", "dense", "dense_rank", "first", "length"];
/// How many features a provision has.
pub const COUNT: usize = 8;
/// A provision's features.
pub type Features = [f32; COUNT];

/// The features of the provisions `readable` (indices into `index.entries`) for a query with
/// `terms`, whose everyday phrases bring the law's words `expanded`; `cosines` is e5's cosine
/// of the query to each provision's own text, in the order of `readable` (empty without an
/// embedder).
pub fn features(index: &Index, readable: &[usize], terms: &Terms, expanded: &[String], cosines: &[f32]) -> Vec<Features> {
    let entries: Vec<&crate::provisions::Entry> = readable.iter().map(|&i| &index.entries[i]).collect();
    let own: Vec<&String> = terms.stems.iter().collect();
    let all: Vec<&String> = terms.all().collect();
    let wide: Vec<&String> = expanded.iter().collect();
    let field = |f: Field| -> Vec<&Counts> { entries.iter().map(|e| &e.counts[f as usize]).collect() };
    let text = bm25(&own, &field(Field::Text));
    let parts = bm25(&all, &field(Field::Parts));
    let context = bm25(&all, &field(Field::Context));
    let thesaurus = bm25(&wide, &field(Field::Wide));
    // Each provision's place when ranked by its own closeness alone (0 = closest).
    let mut order: Vec<usize> = (0..cosines.len()).collect();
    order.sort_by(|&a, &b| cosines[b].total_cmp(&cosines[a]));
    let mut place = vec![usize::MAX; cosines.len()];
    for (p, &k) in order.iter().enumerate() {
        place[k] = p;
    }
    entries
        .iter()
        .enumerate()
        .map(|(k, e)| {
            [
                text[k],
                parts[k],
                context[k],
                thesaurus[k],
                cosines.get(k).copied().unwrap_or(0.0),
                place.get(k).map_or(0.0, |&p| 1.0 / (1.0 + p as f32)),
                if e.stk == 1 { 1.0 } else { 0.0 },
                (e.words.max(1) as f32).ln() / 200f32.ln(),
            ]
        })
        .collect()
}

/// BM25 (k1 1.2, b 0.75) of `query` over `fields`, with document frequencies among `fields`,
/// scaled so the best is 1 (all 0 when nothing matches).
fn bm25(query: &[&String], fields: &[&Counts]) -> Vec<f32> {
    let n = fields.len() as f32;
    let avg = (fields.iter().map(|f| f.len).sum::<f32>() / n.max(1.0)).max(1.0);
    let unique: HashSet<&String> = query.iter().copied().collect();
    let idf: Vec<(&String, f32)> = unique
        .into_iter()
        .map(|q| {
            let df = fields.iter().filter(|f| f.tf.contains_key(q)).count() as f32;
            (q, (1.0 + (n - df + 0.5) / (df + 0.5)).ln())
        })
        .collect();
    let scores: Vec<f32> = fields
        .iter()
        .map(|f| idf.iter().filter_map(|(q, idf)| f.tf.get(*q).map(|tf| idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * f.len / avg)))).sum())
        .collect();
    let best = scores.iter().copied().fold(0.0f32, f32::max);
    if best > 0.0 { scores.iter().map(|s| s / best).collect() } else { scores }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_prefers_rare_words_and_scales_to_one() {
        let (a, b, c) = ("habil".to_string(), "medlem".to_string(), "møde".to_string());
        let counts = |terms: &[&String]| {
            let mut c = Counts::default();
            for t in terms {
                *c.tf.entry((*t).clone()).or_default() += 1.0;
                c.len += 1.0;
            }
            c
        };
        let fields = [counts(&[&b, &c]), counts(&[&a, &b]), counts(&[&b, &c, &c])];
        let refs: Vec<&Counts> = fields.iter().collect();
        let s = bm25(&[&a, &b], &refs);
        assert_eq!(s[1], 1.0, "the only field holding the rare word is best");
        assert!(s[0] < 0.5 && s[2] < 0.5, "{s:?}");
        assert_eq!(bm25(&[], &refs), vec![0.0; 3]);
    }
}
