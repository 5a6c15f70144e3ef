//! Filters shared by every vector store, expressed in Qdrant's filter language.

use byraad_core::{Access, Clearance};
use serde_json::{Value, json};

/// Restrictions applied inside a vector search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorFilter {
    /// Only these kinds.
    pub kinds: Vec<String>,
    /// Only these bodies (lowercased).
    pub bodies: Vec<String>,
    /// Only dates on or after (YYYYMMDD).
    pub date_from: Option<i64>,
    /// Only dates on or before (YYYYMMDD).
    pub date_to: Option<i64>,
    /// Only this case number.
    pub case: Option<String>,
    /// Only these sources.
    pub sources: Vec<String>,
    /// Only what the caller may read (default: public documents only).
    pub clearance: Clearance,
}

impl VectorFilter {
    /// Payload groups readable besides public ones; `None` when everything is.
    pub fn readable_groups(&self) -> Option<&[String]> {
        self.clearance.restricted_to()
    }

    /// The filter as Qdrant's JSON filter (`{"must": [...], "should": [...]}`), the form both
    /// the REST API and qdrant-edge's `Filter` deserialise. Readability is the `should` part:
    /// public, or one of the readable groups.
    pub fn to_qdrant_json(&self) -> Value {
        let mut must = Vec::new();
        if !self.kinds.is_empty() {
            must.push(json!({"key": "kind", "match": {"any": self.kinds}}));
        }
        if !self.bodies.is_empty() {
            must.push(json!({"key": "body", "match": {"any": self.bodies}}));
        }
        if self.date_from.is_some() || self.date_to.is_some() {
            let mut range = serde_json::Map::new();
            if let Some(from) = self.date_from {
                range.insert("gte".into(), json!(from));
            }
            if let Some(to) = self.date_to {
                range.insert("lte".into(), json!(to));
            }
            must.push(json!({"key": "date", "range": range}));
        }
        if let Some(case) = &self.case {
            must.push(json!({"key": "case", "match": {"value": case}}));
        }
        if !self.sources.is_empty() {
            must.push(json!({"key": "source", "match": {"any": self.sources}}));
        }
        match self.readable_groups() {
            None => json!({"must": must}),
            Some(groups) => {
                let mut should = vec![json!({"key": "access", "match": {"value": Access::Public.as_str()}})];
                if !groups.is_empty() {
                    should.push(json!({"key": "groups", "match": {"any": groups}}));
                }
                json!({"must": must, "should": should})
            }
        }
    }
}
