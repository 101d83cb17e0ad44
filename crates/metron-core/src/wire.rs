//! The JSON bodies of the server API v1 (SPEC §4) other than the interval itself, shared by the
//! server and its clients so both sides agree by construction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::timesheet::{Change, Status};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /api/v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The signing-in device (its store's id): the token that device held before is revoked,
    /// so a device never keeps two live tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The second factor of a person who turned two-factor codes on: the 6-digit code their
    /// authenticator shows, or one of their recovery codes. Absent, such a person's sign-in
    /// answers 401 with an error starting [`SECOND_FACTOR_REQUIRED`], and the client asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub second_factor: Option<String>,
}

/// How a 401's error begins when the password was right but the person's second factor is
/// needed: the client asks for the code and signs in again with `second_factor`.
pub const SECOND_FACTOR_REQUIRED: &str = "second_factor_required";
/// How a 401's error begins when the second factor given was wrong, out of its window or
/// already used.
pub const SECOND_FACTOR_INVALID: &str = "second_factor_invalid";
/// How a 403's error begins when the organization requires two-factor codes of a person who
/// has not set them up: a device's sign-in is refused, and the page's session may only set
/// them up.
pub const SECOND_FACTOR_SETUP_REQUIRED: &str = "second_factor_setup_required";

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    /// Admins read the reports of everyone in their organization.
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
}

// Signing in with the organization's identity provider (issue 29). The server is the OpenID
// Connect relying party; the page, the desktop app and the agent sign in to Metron's server,
// never to the provider directly, and end with the same device token as a password sign-in.
//
// The desktop app and an agent with a browser (RFC 8252, a loopback redirect with PKCE): open
// `GET /api/v1/sso/start?provider=ID&redirect_uri=http://127.0.0.1:PORT/callback&state=S
// &code_challenge=C&code_challenge_method=S256` in the system browser; the server sends the
// browser back to `redirect_uri?code=M&state=S` (or `?error=access_denied&error_description=
// WHY&state=S`), and the client trades `M` with its verifier at `POST /api/v1/sso/token`.
// An agent without a browser (RFC 8628): `POST /api/v1/sso/device`, show the URL and the code,
// then poll `POST /api/v1/sso/device/token` every `interval` seconds; while the person has not
// finished it answers 400 `{"error": "authorization_pending"}` (`"slow_down"` when polled too
// fast, `"expired_token"` after `expires_in`), 403 with the reason when the sign-in was refused.

/// One identity provider people can sign in with (`GET /api/v1/sso/providers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SsoProvider {
    /// What `provider=` takes.
    pub id: String,
    /// The name to show on the sign-in button ("Sign in with {name}").
    pub name: String,
}

/// `POST /api/v1/sso/token`: the code the loopback redirect brought, with its PKCE verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SsoTokenRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 43, max_length = 128))]
    pub code_verifier: String,
    /// The same `redirect_uri` the start was given.
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_id: Option<String>,
}

/// `POST /api/v1/sso/device`: an agent without a browser asks for a code to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceAuthorizationRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_id: Option<String>,
}

/// What the agent shows: open `verification_uri` anywhere and type `user_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceAuthorization {
    /// Secret: only the agent that asked knows it; it polls with it.
    pub device_code: String,
    /// Short, for a person to type: eight letters as `ABCD-EFGH`.
    pub user_code: String,
    pub verification_uri: String,
    /// The same with the code filled in.
    pub verification_uri_complete: String,
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

/// `POST /api/v1/sso/device/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceTokenRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub device_code: String,
}

/// A task intervals are booked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Task {
    pub id: String,
    pub name: String,
    pub project: String,
}

/// `POST /api/v1/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewTask {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub project: String,
}

/// What the server did with one interval of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IngestStatus {
    /// Stored now.
    Accepted,
    /// Already stored with the same content: resending is harmless (S5).
    Duplicate,
    /// Refused for good; `reason` says why.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IngestResult {
    /// The interval's id as sent (null if the item had no readable id).
    pub id: Option<String>,
    pub status: IngestStatus,
    /// `overlap`, `id_conflict` or `invalid: <why>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `overlap`: the stored interval this one overlaps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts_with: Option<String>,
}

impl IngestResult {
    pub fn accepted(id: String) -> Self {
        IngestResult {
            id: Some(id),
            status: IngestStatus::Accepted,
            reason: None,
            conflicts_with: None,
        }
    }

    pub fn duplicate(id: String) -> Self {
        IngestResult {
            id: Some(id),
            status: IngestStatus::Duplicate,
            reason: None,
            conflicts_with: None,
        }
    }

    pub fn rejected(id: Option<String>, reason: impl Into<String>) -> Self {
        IngestResult {
            id,
            status: IngestStatus::Rejected,
            reason: Some(reason.into()),
            conflicts_with: None,
        }
    }

    pub fn overlap(id: String, conflicts_with: String) -> Self {
        IngestResult {
            id: Some(id),
            status: IngestStatus::Rejected,
            reason: Some("overlap".into()),
            conflicts_with: Some(conflicts_with),
        }
    }
}

/// The `rejected` reason for an interval ending more than 5 minutes after the server's clock.
/// Unlike the other reasons it is not final: time cures it (the interval becomes acceptable
/// once the server's clock catches up), so clients send such an interval again later.
pub const REASON_ENDS_IN_FUTURE: &str = "invalid: ends more than 5 min in the future";
/// How the server's refusal of an interval delivered too late begins (the number of days and
/// why follow): past the organization's edit window and the days a device has after it.
/// Final: the agent keeps the interval, marked rejected with the reason, and shows it.
pub const REASON_TOO_OLD: &str = "invalid: too old: started more than ";

impl IngestResult {
    /// True for a rejection that time cures ([`REASON_ENDS_IN_FUTURE`]), so not final.
    pub fn is_rejected_for_now(&self) -> bool {
        self.status == IngestStatus::Rejected
            && self
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with(REASON_ENDS_IN_FUTURE))
    }
}

/// `POST /api/v1/intervals` answer: one result per interval, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IngestResponse {
    pub results: Vec<IngestResult>,
}

/// A device of the caller that delivered an interval ending in the last 3 minutes
/// (`GET /api/v1/devices/active`): a sign that it is tracking now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ActiveDevice {
    pub device_id: String,
    /// When its latest interval ended.
    pub last_ended_at: chrono::DateTime<chrono::Utc>,
}

/// `GET /api/v1/client-version`: the release of Metron's desktop app and agent that the
/// organization's admins announce (`crate::release` checks it). Clients only tell their person
/// about it; they never download or install anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClientVersion {
    /// The newest version (semver, e.g. `0.2.0`); null when none is announced.
    #[cfg_attr(feature = "openapi", schema(max_length = 64, example = "0.2.0"))]
    pub latest: Option<String>,
    /// Where to get it: an http(s) address of at most 2,048 bytes.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub download_url: Option<String>,
    /// What is new: at most 2,000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub notes: Option<String>,
    /// When an admin last set it; null if never.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `PUT /api/v1/client-version`: `latest` and `download_url` together (with optional `notes`),
/// or all null to withdraw the announcement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClientVersionUpdate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 64,
            example = "0.2.0",
            pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
        )
    )]
    pub latest: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^[hH][tT][tT][pP][sS]?://[^\s/?#\\]+[^\s\\]*$"
        )
    )]
    pub download_url: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub notes: Option<String>,
}

/// Every error body of the API: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: String,
}

// Reviewed requests (issue 16): manual time and corrections of tracked time, the reviewer's
// decision and the withdrawal, and how the server shows each. The app sends the `New*` bodies
// and reads the views back for where its requests stand.

/// A new manual entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewManualEntry {
    /// Whose time (a reviewer may add for the people they review); default the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// What the time was (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
    /// Minutes east of UTC where the person is (-840..=840): the entry's seconds fall on local
    /// days in this offset. Default: the offset of their latest interval before its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
}

/// A manual entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManualEntryView {
    pub id: String,
    pub user_id: String,
    pub task_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub note: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    /// Who added it (the person, or a reviewer for them).
    pub created_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The reviewer's (or the author's, on withdrawing) note.
    pub decision_note: Option<String>,
    /// Minutes east of UTC it was added in.
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

/// A new correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// Whose interval (a reviewer may correct the people they review); default the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub interval_id: uuid::Uuid,
    pub change: Change,
    /// Why (at most 1,000 characters).
    #[serde(default)]
    pub reason: String,
}

/// A correction as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CorrectionView {
    pub id: String,
    pub user_id: String,
    pub interval_id: String,
    /// The corrected interval's start (the interval itself is unchanged in storage).
    pub interval_started_at: DateTime<Utc>,
    pub change: Change,
    pub reason: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

// `POST /api/v1/{manual-entries,corrections}/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision: Verdict,
    /// Why (at most 1,000 characters); the person sees it.
    #[serde(default)]
    pub note: String,
}

// `POST /api/v1/{manual-entries,corrections}/{id}/withdraw`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why (at most 1,000 characters).
    #[serde(default)]
    pub reason: String,
}

/// `GET /api/v1/events` (issue 27's shape): a person's window and input events in a range,
/// a day at a time. Each day names each window once (`windows`) and its events refer to it
/// by index, so a window's strings travel once a day however many events happened in it.
/// The server writes it as it reads (a chunked body), so the document's last fields say
/// whether it is whole: `complete` is false when the server stopped at its byte budget, and
/// `resume_from` is where to ask again. An error after the answer started leaves the body
/// unfinished (no closing brace), never a shorter document that parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventExport {
    pub user_id: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The UTC offset the range is cut into local days at: that of the person's latest
    /// interval before `to` (0 when there is none).
    pub utc_offset_minutes: i32,
    /// Every local day the range touches, in order, the first and last cut to the range.
    pub days: Vec<EventDay>,
    /// False when the server stopped at its byte budget: the events from `resume_from` on
    /// are missing.
    pub complete: bool,
    /// Where to ask again (`from`) for the rest, when `complete` is false. Nothing at that
    /// second was sent: the server stops between seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_from: Option<DateTime<Utc>>,
}

/// One local day of an [`EventExport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventDay {
    pub date: chrono::NaiveDate,
    /// The part of the range in this day: [from, to).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The windows the day's events happened in, each once.
    pub windows: Vec<ExportWindow>,
    /// The day's events in time order.
    pub events: Vec<ExportEvent>,
}

/// A window as the privacy settings of its recording left it: a withheld title is absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportWindow {
    pub app: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One event: when, what, the window it happened in (an index into its day's `windows`), and
/// the interval and task it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExportEvent {
    pub at: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: crate::events::EventType,
    pub window: u32,
    pub task_id: String,
    pub interval_id: String,
}
