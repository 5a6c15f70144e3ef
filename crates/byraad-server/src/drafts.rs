//! Drafts of forespørgsler kept in the database for their Word download. A draft belongs to its
//! author and its author's party group; to anyone else it does not exist.

use std::sync::Arc;

use byraad_core::Principal;
use byraad_inquiry::DraftResponse;
use byraad_store::Store;

use crate::ApiError;

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

    /// The draft with this id, if `reader` is its author or in its party group.
    pub async fn get(&self, id: &str, reader: &Principal) -> Result<Option<DraftResponse>, ApiError> {
        let stored = self.store.draft(id).await.map_err(|e| ApiError::Internal(format!("draft not read: {e}")))?;
        let Some(d) = stored.filter(|d| d.author == reader.name || reader.groups.contains(&d.party_group)) else { return Ok(None) };
        serde_json::from_str(&d.body).map(Some).map_err(|e| ApiError::Internal(format!("draft {id}: {e}")))
    }
}
