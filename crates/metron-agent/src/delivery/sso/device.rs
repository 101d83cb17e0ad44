//! RFC 8628's device authorization: a URL and a code for another device, and polling until
//! the person finished there.

use metron_core::wire::{
    DeviceAuthorization, DeviceAuthorizationRequest, DeviceTokenRequest, LoginResponse,
};
use std::time::Duration;

use super::{bounded, SsoError};
use crate::delivery::client::ClientError;
use crate::delivery::signin::Connected;
use crate::error::AgentError;

/// Bounds on what a device authorization may ask of the agent (a hostile or broken server
/// must not make it poll in a busy loop or for days).
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);
const MAX_DEVICE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// RFC 8628's flow: asks the server for a code, hands it to `show` (print the URL and the
/// code), then polls until the person finished on another device, the code expired or the
/// sign-in was refused. `pause` waits between polls (a test's records instead).
pub fn sign_in_device(
    server: &Connected,
    provider: &str,
    device_id: &str,
    show: &mut dyn FnMut(&DeviceAuthorization),
    pause: &mut dyn FnMut(Duration),
) -> Result<LoginResponse, AgentError> {
    let authorization = server
        .client
        .sso_device(&DeviceAuthorizationRequest {
            provider: provider.to_string(),
            device_id: Some(device_id.to_string()),
        })
        .map_err(refusal)?;
    show(&authorization);
    poll_device(server, &authorization, pause)
}

/// Polls `POST /api/v1/sso/device/token` every `interval` (five seconds more after each
/// `slow_down`) until an answer, `expired_token`, a refusal or `expires_in` spent waiting.
/// An unreachable or failing server is asked again at the next interval.
pub fn poll_device(
    server: &Connected,
    authorization: &DeviceAuthorization,
    pause: &mut dyn FnMut(Duration),
) -> Result<LoginResponse, AgentError> {
    let mut interval =
        Duration::from_secs(authorization.interval).clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL);
    let expiry = Duration::from_secs(authorization.expires_in).min(MAX_DEVICE_EXPIRY);
    let request = DeviceTokenRequest {
        device_code: authorization.device_code.clone(),
    };
    let mut waited = Duration::ZERO;
    loop {
        if waited >= expiry {
            return Err(SsoError::Expired.into());
        }
        pause(interval);
        waited += interval;
        match server.client.sso_device_token(&request) {
            Ok(response) => return Ok(response),
            Err(ClientError::Refused {
                status: 400,
                message,
            }) => match message.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval = (interval + SLOW_DOWN_STEP).min(MAX_POLL_INTERVAL),
                "expired_token" => return Err(SsoError::Expired.into()),
                other => return Err(SsoError::Refused(bounded(other)).into()),
            },
            Err(e @ ClientError::Refused { .. }) => return Err(refusal(e)),
            Err(ClientError::RateLimited { retry_after }) => {
                let extra = retry_after.unwrap_or(interval).min(MAX_POLL_INTERVAL);
                pause(extra);
                waited += extra;
            }
            Err(e) if e.is_unreachable() || matches!(e, ClientError::Server { .. }) => {
                tracing::debug!("polling for the device sign-in: {e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A 403 (the sign-in refused) as [`SsoError::Refused`] with the server's reason.
fn refusal(e: ClientError) -> AgentError {
    match e {
        ClientError::Refused {
            status: 403,
            message,
        } => SsoError::Refused(bounded(&message)).into(),
        e => e.into(),
    }
}
