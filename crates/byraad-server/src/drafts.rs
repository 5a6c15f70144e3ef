//! Drafts of forespørgsler kept in the database for their Word download. A draft belongs to its
//! author and its author's party group; to anyone else it does not exist. What it draws from the
//! archive is checked at every read against the reader's access as it is then: a party colleague,
//! or the author after losing a group, gets the draft without what they may not read.

use std::sync::Arc;

use byraad_core::Principal;
use byraad_inquiry::DraftResponse;
use byraad_store::Store;

use crate::{ApiError, SearchService};

/// Group prefix of a party: a draft by a member of party "SF" is readable by principals holding
/// the group "parti:sf" (and by its author).
pub const PARTY_GROUP_PREFIX: &str = "parti:";

/// The group of `party`'s members.
pub fn party_group(party: &str) -> String {
    format!("{PARTY_GROUP_PREFIX}{}", party.trim().to_lowercase())
}

/// Drafts in the store, the oldest beyond `keep` removed.
#[derive(Debug)]
pub struct DraftStore {
    store: Arc<Store>,
    keep: usize,
}

impl DraftStore {
    /// Drafts in `store`, at most `keep` of them.
    pub fn new(store: Arc<Store>, keep: usize) -> Self {
        Self { store, keep }
    }

    /// Keeps `draft` by `author` for `party`; returns its id once it is stored.
    pub async fn put(&self, author: &Principal, party: &str, draft: &DraftResponse) -> Result<String, ApiError> {
        let body = serde_json::to_string(draft).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.store.put_draft(&author.name, &party_group(party), &body, self.keep).await.map_err(|e| ApiError::Internal(format!("draft not stored: {e}")))
    }

    /// The draft with this id as `reader` may read it (see [`DraftResponse::as_read_by`]), if
    /// `reader` is its author or in its party group; `search` says which of its sources `reader`
    /// may read now.
    pub async fn get(&self, id: &str, reader: &Principal, search: Arc<dyn SearchService>) -> Result<Option<DraftResponse>, ApiError> {
        let stored = self.store.draft(id).await.map_err(|e| ApiError::Internal(format!("draft not read: {e}")))?;
        let Some(d) = stored.filter(|d| d.author == reader.name || reader.groups.contains(&d.party_group)) else { return Ok(None) };
        let draft: DraftResponse = serde_json::from_str(&d.body).map_err(|e| ApiError::Internal(format!("draft {id}: {e}")))?;
        let clearance = reader.clearance();
        let draft = crate::handler::blocking(move || {
            let sources: Vec<String> = draft.sources().into_iter().map(str::to_string).collect();
            let mut readable = std::collections::BTreeSet::new();
            for source in sources {
                if search.document(&source, &clearance)?.is_some() {
                    readable.insert(source);
                }
            }
            Ok(draft.as_read_by(|id| readable.contains(id)))
        })
        .await?;
        Ok(Some(draft))
    }
}
