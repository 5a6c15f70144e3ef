//! Who may read what: principals and the clearance every retrieval carries.
//!
//! A document is `public` (every principal reads it) or `restricted` to its groups (only a
//! principal sharing one of them reads it). Retrieval takes a [`Clearance`] and applies it inside
//! the search, like any other filter; the default clearance reads public documents only, so a
//! path that forgets to pass one fails closed.

use crate::Access;

/// An authenticated caller: its name (written to the audit log) and its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The name the audit log records.
    pub name: String,
    /// Groups whose restricted documents it may read.
    pub groups: Vec<String>,
}

/// Name of the principal of an unauthenticated request (allowed only on loopback servers).
pub const ANONYMOUS: &str = "anonymous";

impl Principal {
    /// A principal with no groups and no name: reads public documents only.
    pub fn anonymous() -> Self {
        Self { name: ANONYMOUS.to_string(), groups: Vec::new() }
    }

    /// What this principal may read.
    pub fn clearance(&self) -> Clearance {
        Clearance::groups(self.groups.clone())
    }
}

/// What a search may return: public documents, restricted documents sharing one of `groups`,
/// or (the operator's command line only) everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clearance {
    groups: Vec<String>,
    everything: bool,
}

impl Clearance {
    /// Public documents only.
    pub fn public() -> Self {
        Self::default()
    }

    /// Public documents and restricted ones sharing one of `groups`.
    pub fn groups(groups: Vec<String>) -> Self {
        let mut groups: Vec<String> = groups.into_iter().filter(|g| !g.is_empty()).collect();
        groups.sort();
        groups.dedup();
        Self { groups, everything: false }
    }

    /// Every document: for the operator's command line, which reads the data directory anyway.
    pub fn everything() -> Self {
        Self { groups: Vec::new(), everything: true }
    }

    /// The groups whose restricted documents are readable; `None` when everything is.
    pub fn restricted_to(&self) -> Option<&[String]> {
        (!self.everything).then_some(self.groups.as_slice())
    }

    /// Whether a document with this access and these groups is readable.
    pub fn may_read(&self, access: Access, groups: &[String]) -> bool {
        self.everything || access == Access::Public || groups.iter().any(|g| self.groups.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_documents_are_readable_by_everyone_restricted_ones_by_their_groups() {
        let restricted = |groups: &[&str]| groups.iter().map(|g| (*g).to_string()).collect::<Vec<_>>();
        let public = Clearance::public();
        assert!(public.may_read(Access::Public, &[]));
        assert!(!public.may_read(Access::Restricted, &restricted(&["byraadet"])));
        assert!(!public.may_read(Access::Restricted, &[]));

        let member = Principal { name: "medlem".into(), groups: vec!["byraadet".into(), "".into()] }.clearance();
        assert!(member.may_read(Access::Restricted, &restricted(&["magistraten", "byraadet"])));
        assert!(!member.may_read(Access::Restricted, &restricted(&["magistraten"])));
        // An empty group name never matches a document without groups.
        assert!(!member.may_read(Access::Restricted, &restricted(&[""])));
        assert_eq!(member.restricted_to(), Some(&["byraadet".to_string()][..]));

        assert!(Clearance::everything().may_read(Access::Restricted, &[]));
        assert_eq!(Clearance::everything().restricted_to(), None);
        assert_eq!(Principal::anonymous().clearance(), Clearance::public());
    }
}
