//! The organization's transparency notice (issue 28): what its server records about the
//! person, who sees it and how long it is kept, worded by the server from the organization's
//! settings. The desktop app shows it after a sign-in while its version is not acknowledged;
//! whether it was is the server's to remember, so nothing of it is stored here.

use std::path::Path;

use super::signin::{signed_in, QUICK};
use crate::error::AgentError;
use crate::store::Store;

/// The signed-in person's notice, as `GET /api/v1/me/notice` answers it.
pub fn notice(store: &mut Store, data_dir: &Path) -> Result<serde_json::Value, AgentError> {
    let (client, token) = signed_in(store, data_dir, QUICK)?;
    Ok(client.notice(&token)?)
}

/// Tells the server the person read `version` of the notice; its answer, the notice now
/// acknowledged.
pub fn acknowledge(
    store: &mut Store,
    data_dir: &Path,
    version: &str,
) -> Result<serde_json::Value, AgentError> {
    let (client, token) = signed_in(store, data_dir, QUICK)?;
    Ok(client.acknowledge_notice(&token, version)?)
}
