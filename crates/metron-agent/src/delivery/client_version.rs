//! The release the organization announces (`GET /api/v1/client-version`), as the agent keeps
//! it: asked by the uploader after each sign-in and then at most once every [`CHECK_EVERY`],
//! and, when it is newer than this program, remembered in the store's meta table, where
//! `metron-agent status` (another process) and the desktop app read it. The answer is checked
//! with `metron_core::release` before it is kept, so only a bounded http(s) link ever reaches
//! a person. Nothing here downloads or installs anything (docs/DECISIONS.md): the person is
//! told, and follows the link or not.

use chrono::{DateTime, Utc};
use metron_core::release::{self, Offer};
use std::time::Duration;

use super::client::{ClientError, ServerClient, Token};
use crate::store::{Store, StoreError};

/// How often a signed-in uploader asks.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);
/// The version of this program, compared with the announced one.
pub const RUNNING: &str = env!("CARGO_PKG_VERSION");

/// When the server was last asked (unix seconds): asked or not, the next try waits
/// [`CHECK_EVERY`], so a server that fails is not asked every second.
const CHECKED_AT: &str = "client_version_checked_at";
/// The newer release announced (JSON of [`Offer`]); absent when there is none.
const OFFER: &str = "client_version_offer";

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether the server should be asked at `now`: never asked since the last sign-in, asked
/// [`CHECK_EVERY`] ago or more, or the clock has gone back past the last ask.
pub fn due(store: &Store, now: DateTime<Utc>) -> bool {
    let last = match store.meta(CHECKED_AT) {
        Ok(value) => value.and_then(|v| v.parse::<i64>().ok()),
        // A store that can't be read now is not a reason to ask the network.
        Err(_) => return false,
    };
    match last {
        None => true,
        Some(at) => {
            let elapsed = now.timestamp() - at;
            elapsed < 0 || elapsed >= CHECK_EVERY.as_secs() as i64
        }
    }
}

/// When the server was last asked (since the last sign-in), if it was.
pub fn asked_at(store: &Store) -> Option<DateTime<Utc>> {
    let secs = store.meta(CHECKED_AT).ok()??.parse().ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// Asks the server and keeps what it announces if that is a valid release newer than this
/// program; returns it (`None`: nothing newer, or nothing valid, is announced).
pub fn check(
    store: &mut Store,
    client: &ServerClient,
    token: &Token,
    now: DateTime<Utc>,
) -> Result<Option<Offer>, CheckError> {
    store.set_meta(CHECKED_AT, &now.timestamp().to_string())?;
    let announced = client.client_version(token)?;
    let offer = release::offer(&announced, RUNNING);
    if offer.is_none() && announced.latest.is_some() {
        tracing::debug!(?announced.latest, "the announced release is not newer, or not valid");
    }
    match &offer {
        Some(o) => store.set_meta(
            OFFER,
            &serde_json::to_string(o).expect("an offer serializes"),
        )?,
        None => store.delete_meta(OFFER)?,
    }
    Ok(offer)
}

/// The newer release last announced, if any, and still newer than this program (an upgrade
/// since makes it go away without asking the server).
pub fn offer(store: &Store) -> Option<Offer> {
    let kept: Offer = serde_json::from_str(&store.meta(OFFER).ok()??).ok()?;
    // Checked again: the store is a file, and the program may have changed since.
    release::offer(
        &metron_core::wire::ClientVersion {
            latest: Some(kept.version),
            download_url: Some(kept.download_url),
            notes: kept.notes,
            updated_at: None,
        },
        RUNNING,
    )
}

/// Forgets the announcement and when it was asked (at sign-in and sign-out): another account,
/// or another server, announces its own, and is asked at once.
pub fn forget(store: &mut Store) -> Result<(), StoreError> {
    store.delete_meta(OFFER)?;
    store.delete_meta(CHECKED_AT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.sqlite")).unwrap();
        (dir, store)
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_server_is_asked_at_most_once_every_six_hours_and_at_once_after_a_sign_in() {
        let (_dir, mut store) = store();
        assert!(due(&store, at(0)), "never asked");
        assert_eq!(asked_at(&store), None);
        store
            .set_meta(CHECKED_AT, &at(0).timestamp().to_string())
            .unwrap();
        assert_eq!(asked_at(&store), Some(at(0)));
        assert!(!due(&store, at(60)));
        assert!(!due(&store, at(6 * 3600 - 1)));
        assert!(due(&store, at(6 * 3600)));
        assert!(
            due(&store, at(-60)),
            "the clock went back past the last ask"
        );
        forget(&mut store).unwrap();
        assert!(due(&store, at(60)), "a sign-in asks at once");
    }

    #[test]
    fn a_kept_offer_is_shown_only_while_it_is_newer_and_valid() {
        let (_dir, mut store) = store();
        assert_eq!(offer(&store), None);
        let newer = Offer {
            version: "99.0.0".into(),
            download_url: "https://example.com/metron".into(),
            notes: None,
        };
        store
            .set_meta(OFFER, &serde_json::to_string(&newer).unwrap())
            .unwrap();
        assert_eq!(offer(&store), Some(newer.clone()));
        let same = Offer {
            version: RUNNING.into(),
            ..newer.clone()
        };
        store
            .set_meta(OFFER, &serde_json::to_string(&same).unwrap())
            .unwrap();
        assert_eq!(offer(&store), None, "this program is that version already");
        let edited = Offer {
            download_url: "file:///etc/passwd".into(),
            ..newer
        };
        store
            .set_meta(OFFER, &serde_json::to_string(&edited).unwrap())
            .unwrap();
        assert_eq!(
            offer(&store),
            None,
            "a link that isn't http(s) is never shown"
        );
        store.set_meta(OFFER, "{not json").unwrap();
        assert_eq!(offer(&store), None);
    }
}
