//! What the rules ranker reads of a provision for a query: how well the query's words match its
//! own text (as written, and with compounds split), its context, the law's words the thesaurus
//! brings, and how close e5 puts them; and whether it opens its paragraph, and its length. Each
//! method is one feature, so each can be left out and its gain measured (`byraad train-rules`).

use std::collections::{HashMap, HashSet};

use crate::provisions::Index;
use crate::terms::Terms;

/// The features' names, in order.
pub const NAMES: [&str; COUNT] = ["text", "parts", "context", "thesaurus", "dense", "dense_rank", "first", "length"];
/// How many features a provision has.
pub const COUNT: usize = 8;
/// A provision's features.
pub type Features = [f32; COUNT];

/// How close dense retrieval put a provision: its best chunk's cosine and rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closeness {
    /// Cosine similarity of the question to the provision's best chunk.
    pub cosine: f32,
    /// That chunk's rank among the rules texts' chunks (0 = closest).
    pub rank: usize,
}

/// The features of the provisions `readable` (indices into `index.entries`) for a query with
/// `terms`, whose everyday phrases bring the law's words `expanded`; `dense` by entry index.
pub fn features(index: &Index, readable: &[usize], terms: &Terms, expanded: &[String], dense: &HashMap<usize, Closeness>) -> Vec<Features> {
    let entries: Vec<&crate::provisions::Entry> = readable.iter().map(|&i| &index.entries[i]).collect();
    let own: Vec<&String> = terms.stems.iter().collect();
    let all: Vec<&String> = terms.all().collect();
    let wide: Vec<&String> = expanded.iter().collect();
    let text = bm25(&own, &entries.iter().map(|e| e.text.stems.iter().collect()).collect::<Vec<_>>());
    let parts = bm25(&all, &entries.iter().map(|e| e.text.all().collect()).collect::<Vec<_>>());
    let context = bm25(&all, &entries.iter().map(|e| e.context.all().collect()).collect::<Vec<_>>());
    let thesaurus = bm25(&wide, &entries.iter().map(|e| e.text.all().chain(e.context.all()).collect()).collect::<Vec<_>>());
    entries
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let near = dense.get(&readable[k]);
            [
                text[k],
                parts[k],
                context[k],
                thesaurus[k],
                near.map_or(0.0, |c| c.cosine),
                near.map_or(0.0, |c| 1.0 / (1.0 + c.rank as f32)),
                if e.stk == 1 { 1.0 } else { 0.0 },
                (e.words.max(1) as f32).ln() / 200f32.ln(),
            ]
        })
        .collect()
}

/// BM25 (k1 1.2, b 0.75) of `query` over `fields`, with document frequencies among `fields`,
/// scaled so the best is 1 (all 0 when nothing matches).
fn bm25(query: &[&String], fields: &[Vec<&String>]) -> Vec<f32> {
    let n = fields.len() as f32;
    let avg = fields.iter().map(Vec::len).sum::<usize>() as f32 / n.max(1.0);
    let unique: HashSet<&String> = query.iter().copied().collect();
    let mut df: HashMap<&String, f32> = HashMap::new();
    for field in fields {
        let terms: HashSet<&String> = field.iter().copied().collect();
        for q in &unique {
            if terms.contains(q) {
                *df.entry(*q).or_default() += 1.0;
            }
        }
    }
    let scores: Vec<f32> = fields
        .iter()
        .map(|field| {
            let len = field.len() as f32;
            unique
                .iter()
                .map(|q| {
                    let tf = field.iter().filter(|t| *t == q).count() as f32;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let d = df.get(q).copied().unwrap_or(0.0);
                    let idf = (1.0 + (n - d + 0.5) / (d + 0.5)).ln();
                    idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / avg.max(1.0)))
                })
                .sum()
        })
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
        let fields = vec![vec![&b, &c], vec![&a, &b], vec![&b, &c, &c]];
        let s = bm25(&[&a, &b], &fields);
        assert_eq!(s[1], 1.0, "the only field holding the rare word is best");
        assert!(s[0] < 0.5 && s[2] < 0.5, "{s:?}");
        assert_eq!(bm25(&[], &fields), vec![0.0; 3]);
    }
}
