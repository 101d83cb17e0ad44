//! The device's report of itself (who and where: `crate::whereabouts`), sent by the uploader
//! once after each sign-in and again whenever it changes. What was last sent is kept in the
//! store's meta table, so a restart doesn't send it again, `metron-agent status` can show the
//! person exactly what their server knows, and signing out (`forget`) makes the next account
//! get its own report.

use metron_core::device::DeviceInfo;

use super::client::{ClientError, ServerClient, Token};
use crate::store::{Store, StoreError};

/// The report last accepted by the server (JSON of [`DeviceInfo`]).
const SENT: &str = "device_report_sent";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the server was last told, if anything since the last sign-in.
pub fn sent(store: &Store) -> Option<DeviceInfo> {
    serde_json::from_str(&store.meta(SENT).ok()??).ok()
}

/// Sends `info` unless it is what the server already has; whether it was sent.
pub fn report_if_changed(
    store: &mut Store,
    client: &ServerClient,
    token: &Token,
    device_id: &str,
    info: &DeviceInfo,
) -> Result<bool, ReportError> {
    if sent(store).as_ref() == Some(info) {
        return Ok(false);
    }
    client.report_device(token, device_id, info)?;
    store.set_meta(
        SENT,
        &serde_json::to_string(info).expect("a report serializes"),
    )?;
    Ok(true)
}

/// Forgets what was sent (on sign-out): the next account's server hears it anew.
pub fn forget(store: &mut Store) -> Result<(), StoreError> {
    store.delete_meta(SENT)
}
