//! e5 vectors of the provisions themselves (`passage:` and the provision's own text), so that
//! dense closeness is measured to each stk. rather than to the chunk it happens to begin in.
//!
//! Embedding every provision of a law takes seconds; the vectors are kept by their text's
//! SHA-256 in memory and, when a file is given, on disk (`<data>/rules-vectors.json`), so that
//! a new index generation or a restart embeds only provisions whose text is new.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use byraad_embed::{Embedder, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file's name in the data directory.
pub const FILE: &str = "rules-vectors.json";

/// Texts per embedding call.
const BATCH: usize = 32;

/// The file's contents: the model the vectors are of, and each text's vector by its hash.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    model: String,
    vectors: HashMap<String, Vec<f32>>,
}

/// Provision vectors, kept by text.
#[derive(Debug, Default)]
pub struct ProvisionVectors {
    file: Option<PathBuf>,
    kept: Mutex<Stored>,
}

fn key(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl ProvisionVectors {
    /// Vectors kept in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Vectors kept in `file` too, read now (a missing or unreadable file is an empty one:
    /// its vectors are made again).
    pub fn in_file(file: PathBuf) -> Self {
        let stored = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %file.display(), error = %e, "provision vectors unreadable; embedding them again");
                Stored::default()
            }),
            Err(_) => Stored::default(),
        };
        Self { file: Some(file), kept: Mutex::new(stored) }
    }

    /// One vector per text, in order, embedded by `embedder` where not kept. Provisions no
    /// longer in `texts` are forgotten when the file is written.
    pub fn vectors(&self, embedder: &dyn Embedder, texts: &[&str]) -> byraad_embed::Result<Vec<Vec<f32>>> {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.model != embedder.model() {
            *kept = Stored { model: embedder.model().to_string(), vectors: HashMap::new() };
        }
        let keys: Vec<String> = texts.iter().map(|t| key(t)).collect();
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| !kept.vectors.contains_key(&keys[i]) && seen.insert(&keys[i])).collect();
        if !missing.is_empty() {
            let started = std::time::Instant::now();
            for batch in missing.chunks(BATCH) {
                let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
                for (&i, v) in batch.iter().zip(embedder.embed(&batch_texts, Role::Passage)?) {
                    kept.vectors.insert(keys[i].clone(), v);
                }
            }
            tracing::info!(embedded = missing.len(), ms = started.elapsed().as_millis() as u64, "provisions embedded");
            let wanted: std::collections::HashSet<&String> = keys.iter().collect();
            kept.vectors.retain(|k, _| wanted.contains(k));
            if let Some(file) = &self.file
                && let Err(e) = write(file, &kept)
            {
                tracing::warn!(file = %file.display(), error = %e, "cannot keep the provision vectors; they will be embedded again at the next start");
            }
        }
        Ok(keys.iter().map(|k| kept.vectors.get(k).cloned().unwrap_or_default()).collect())
    }
}

/// Writes `stored` to `file` through a temporary file renamed over it.
fn write(file: &std::path::Path, stored: &Stored) -> std::io::Result<()> {
    let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec(stored)?)?;
    std::fs::rename(&tmp, file)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts the texts it embeds; a text's vector is its length and its first byte.
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn model(&self) -> &str {
            "counting"
        }
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str], _role: Role) -> byraad_embed::Result<Vec<Vec<f32>>> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32, f32::from(t.bytes().next().unwrap_or(0))]).collect())
        }
    }

    #[test]
    fn a_text_is_embedded_once_and_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules-vectors.json");
        let e = Counting(AtomicUsize::new(0));
        let v = ProvisionVectors::in_file(file.clone()).vectors(&e, &["ab", "c", "ab"]).unwrap();
        assert_eq!(v, vec![vec![2.0, 97.0], vec![1.0, 99.0], vec![2.0, 97.0]]);
        assert_eq!(e.0.load(Ordering::SeqCst), 2, "a text twice is embedded once");
        // A restart reads them from the file; only the new text is embedded.
        let again = ProvisionVectors::in_file(file.clone());
        assert_eq!(again.vectors(&e, &["ab", "c"]).unwrap()[1], vec![1.0, 99.0]);
        assert_eq!(e.0.load(Ordering::SeqCst), 2);
        again.vectors(&e, &["ab", "dddd"]).unwrap();
        assert_eq!(e.0.load(Ordering::SeqCst), 3);
        // A damaged file is embedded again, not an error.
        std::fs::write(&file, "{").unwrap();
        assert_eq!(ProvisionVectors::in_file(file).vectors(&e, &["c"]).unwrap(), vec![vec![1.0, 99.0]]);
        assert_eq!(e.0.load(Ordering::SeqCst), 4);
    }
}
