//! The foreground window as a sensor reports it: what the engine cuts into segments, the
//! event stream watches for switches and the privacy filter and the limits read. Its own
//! module because all of those use it and none of them should import the others for it.

use serde::{Deserialize, Serialize};

/// The foreground window as the sensors saw it (before the privacy filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowInfo {
    pub app: String,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

impl WindowInfo {
    /// App name used when the sensor could not tell which window was in front.
    pub const UNKNOWN_APP: &'static str = "unknown";

    pub fn unknown() -> Self {
        WindowInfo {
            app: Self::UNKNOWN_APP.to_string(),
            ..Default::default()
        }
    }
}
