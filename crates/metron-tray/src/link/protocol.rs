//! The wire between the resident process and a window process: one JSON object per line over
//! a connection only its owner can open (see [`crate::link::transport`]). The window sends
//! [`Request`]s; the resident process answers each with a [`Message::Reply`] carrying the same
//! id, and pushes `state` and `notice` messages, `show` (bring the window forward) and `quit`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::settings::Settings;

/// The endpoint of a data dir's resident process: its Unix socket, or on Windows the file
/// naming its pipe.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(if cfg!(windows) {
        "desktop.pipe"
    } else {
        "desktop.sock"
    })
}

/// What a window (or a second launch) asks of the resident process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", content = "args", rename_all = "snake_case")]
pub enum Command {
    /// This connection is the window: it gets the pushed messages. Answers `true`, or `false`
    /// when another window is open (that one is told to show itself instead).
    OpenWindow,
    /// Show the window, starting a window process if none is open (a second launch).
    ShowWindow,
    GetState,
    SignIn {
        server: String,
        email: String,
        password: String,
        /// The person confirmed plain http:// to another machine.
        #[serde(default)]
        insecure: bool,
        /// The account's two-factor code (or a recovery code), once the server asked for it.
        #[serde(default)]
        second_factor: Option<String>,
    },
    /// The identity providers the server at `server` offers (its "Sign in with {name}"
    /// buttons); none from a server without any.
    SsoProviders {
        server: String,
    },
    /// Signs in through the organization's identity provider in the system's browser (RFC
    /// 8252's loopback redirect); answers when the browser came back, or after five minutes.
    /// A new one cancels one still waiting.
    SignInSso {
        server: String,
        provider: String,
        /// The person confirmed plain http:// to another machine.
        #[serde(default)]
        insecure: bool,
    },
    /// Gives up the sign-in waiting for the browser.
    CancelSso,
    WorkLocally,
    SignOut,
    Start {
        task_id: String,
    },
    Stop,
    /// One interval by id, or all undelivered ones.
    Resend {
        id: Option<String>,
    },
    CreateTask {
        name: String,
        project: Option<String>,
    },
    RefreshTasks,
    /// Today's report from the server (R1): the Today view.
    GetToday,
    /// The organization's transparency notice for the signed-in person, from the server.
    TransparencyNotice,
    /// The person read this version of the notice (told to the server, which remembers it).
    AcknowledgeNotice {
        version: String,
    },
    GetSettings,
    SetSettings {
        settings: Settings,
    },
    /// Open the download page of the newer release the organization announces, in the
    /// browser. The address is the one the resident process checked and kept, never one the
    /// window sends.
    OpenDownload,
    /// What to do with the time away after an idle or a sleep stop.
    AnswerAway {
        answer: metron_agent::tracker_thread::AwayAnswer,
    },
    /// Time the person didn't track, to the server (after approval where the policy asks).
    AddManualEntry {
        entry: metron_agent::tracker_thread::ManualEntryInput,
    },
    /// Stop tracking and end the resident process (and its window).
    Quit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    #[serde(flatten)]
    pub command: Command,
}

/// An error as the UI receives it: the code it branches on, an English message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub code: String,
    pub message: String,
}

impl WireError {
    pub fn new(code: &str, message: impl Into<String>) -> WireError {
        WireError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// What the resident process sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Reply {
        id: u64,
        result: Result<Value, WireError>,
    },
    State {
        state: Value,
    },
    Notice {
        notice: Value,
    },
    Show,
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_read_back_as_written() {
        let line = r#"{"id":7,"cmd":"start","args":{"task_id":"t-1"}}"#;
        let req: Request = serde_json::from_str(line).unwrap();
        assert_eq!(req.id, 7);
        assert!(matches!(req.command, Command::Start { ref task_id } if task_id == "t-1"));
        let bare: Request = serde_json::from_str(r#"{"id":8,"cmd":"stop"}"#).unwrap();
        assert!(matches!(bare.command, Command::Stop));
        assert!(serde_json::from_str::<Request>(r#"{"id":9,"cmd":"format_disk"}"#).is_err());
        let keep = r#"{"id":10,"cmd":"answer_away","args":{"answer":{"choice":"keep","task_id":"t-2","note":"call"}}}"#;
        let req: Request = serde_json::from_str(keep).unwrap();
        assert!(matches!(
            req.command,
            Command::AnswerAway { answer: metron_agent::tracker_thread::AwayAnswer::Keep { ref task_id, .. } } if task_id == "t-2"
        ));
        let sso = r#"{"id":11,"cmd":"sign_in_sso","args":{"server":"https://m.example.com","provider":"corp"}}"#;
        let req: Request = serde_json::from_str(sso).unwrap();
        assert!(matches!(
            req.command,
            Command::SignInSso { ref provider, insecure: false, .. } if provider == "corp"
        ));
        let cancel: Request = serde_json::from_str(r#"{"id":12,"cmd":"cancel_sso"}"#).unwrap();
        assert!(matches!(cancel.command, Command::CancelSso));
        let reply = Message::Reply {
            id: 7,
            result: Err(WireError::new("input", "a task needs a name")),
        };
        let text = serde_json::to_string(&reply).unwrap();
        match serde_json::from_str::<Message>(&text).unwrap() {
            Message::Reply {
                id: 7,
                result: Err(e),
            } => assert_eq!(e.code, "input"),
            other => panic!("{other:?}"),
        }
    }
}
