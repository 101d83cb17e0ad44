//! Delivery (SPEC S1, S3-S6): the account and its token, the HTTP client, the uploader
//! that moves committed intervals to the server with retry, the release the organization
//! announces, which the uploader asks about now and then, and the device's report of itself.
//!
//! The store is the queue: an interval is committed before any send (S1) and marked sent only
//! after the server answered, so nothing here holds tracked time that isn't on disk.

pub mod account;
pub mod client;
pub mod client_version;
pub mod device_report;
pub mod notice;
pub mod org_policy;
pub mod secret;
pub mod signin;
pub mod sso;
pub mod uploader;

pub use account::{Account, Connection, DeliveryState, TaskCache};
pub use client::{ClientError, ServerClient, Token, REQUEST_TIMEOUT};
pub use secret::{TokenPlace, TokenStore};
pub use signin::{
    complete, connect, create_task, refresh_tasks, sign_in, sign_out, signed_in, today_report,
    Connected, SignInOptions, SignedIn,
};
pub use uploader::{Attempt, DeliveryEvent, Uploader, UploaderThread, Wake};
