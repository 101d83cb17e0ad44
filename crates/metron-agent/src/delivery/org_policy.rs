//! The organization's passive limit (issue 27): how long an idle inhibitor may keep tracking
//! going without input, `passive_limit_secs` of `GET /api/v1/timesheets/policy` (0: passive
//! presence off). The uploader asks after each sign-in and with every refresh of the task
//! list, and keeps the answer in the store's meta table; the tracker (another thread, or
//! another process's) reads it from there and applies the lower of it and its own limit, so
//! the organization's word holds offline and across restarts too.
//!
//! An older server's policy has no such field: that is no organization limit, and the
//! agent's own applies.

use super::client::{ClientError, ServerClient, Token};
use crate::store::{Store, StoreError};

const PASSIVE_LIMIT: &str = "org_passive_limit_secs";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Asks the server for the limit and keeps it (or forgets it where the server has none).
pub fn refresh(
    store: &mut Store,
    client: &ServerClient,
    token: &Token,
) -> Result<Option<u32>, PolicyError> {
    let limit = client.passive_limit(token)?;
    keep(store, limit)?;
    Ok(limit)
}

/// Keeps `limit` as the organization's (`None`: it has none).
pub fn keep(store: &mut Store, limit: Option<u32>) -> Result<(), StoreError> {
    match limit {
        Some(secs) => store.set_meta(PASSIVE_LIMIT, &secs.to_string()),
        None => store.delete_meta(PASSIVE_LIMIT),
    }
}

/// The organization's limit as last kept, if any.
pub fn passive_limit(store: &Store) -> Option<u32> {
    store.meta(PASSIVE_LIMIT).ok()??.parse().ok()
}

/// The limit the engine applies: the lower of the agent's own and the organization's.
pub fn effective(own: u32, org: Option<u32>) -> u32 {
    org.map_or(own, |org| own.min(org))
}

/// Forgets it (at sign-in and sign-out): another account's organization says its own.
pub fn forget(store: &mut Store) -> Result<(), StoreError> {
    store.delete_meta(PASSIVE_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_limit_applies_and_none_from_the_organization_keeps_the_agents() {
        assert_eq!(effective(7200, None), 7200);
        assert_eq!(effective(7200, Some(600)), 600);
        assert_eq!(effective(300, Some(600)), 300);
        assert_eq!(effective(7200, Some(0)), 0);
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("store.sqlite")).unwrap();
        assert_eq!(passive_limit(&store), None);
        keep(&mut store, Some(0)).unwrap();
        assert_eq!(passive_limit(&store), Some(0));
        keep(&mut store, None).unwrap();
        assert_eq!(passive_limit(&store), None);
    }
}
