//! Errors as the UI receives them: `{code, message}` ([`WireError`]). The code is what the UI branches on
//! (and translates); the message is English for the log and for anything without a code.

use metron_agent::delivery::sso::SsoError;
use metron_agent::delivery::ClientError;
use metron_agent::AgentError;

use crate::link::protocol::WireError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Store(#[from] metron_agent::store::StoreError),
    #[error("local mode: {0}")]
    Local(String),
    #[error("{0}")]
    Input(String),
    /// The window asked to open the download page of a newer release, and none is announced
    /// (any more).
    #[error("no newer release of Metron is announced")]
    NoRelease,
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> Self {
        AppError::Agent(AgentError::Server(e))
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Agent(AgentError::Server(e)) => match e {
                ClientError::BadCredentials => "bad_credentials",
                // The window shows its code field and signs in again with the code.
                ClientError::SecondFactorRequired => "second_factor_required",
                ClientError::SecondFactorInvalid => "second_factor_invalid",
                ClientError::Refused { message, .. }
                    if message.starts_with(metron_core::wire::SECOND_FACTOR_SETUP_REQUIRED) =>
                {
                    "second_factor_setup"
                }
                ClientError::BadUrl(_) => "bad_url",
                ClientError::Connect { .. }
                | ClientError::Timeout { .. }
                | ClientError::Broken { .. } => "unreachable",
                ClientError::BadAnswer { .. } => "not_metron",
                ClientError::Unauthorized => "signed_out",
                // The window asks the person to confirm, then signs in again with `insecure`.
                ClientError::InsecureHttp { .. } => "insecure_http",
                ClientError::Redirected { .. } => "redirect",
                ClientError::Tls { .. } | ClientError::CaCert { .. } => "tls",
                _ => "server",
            },
            AppError::Agent(AgentError::Sso(e)) => match e {
                SsoError::Refused(_) => "sso_refused",
                SsoError::TimedOut | SsoError::Expired => "sso_timed_out",
                SsoError::Cancelled => "sso_cancelled",
                SsoError::Browser(_) => "sso_browser",
                SsoError::NoProvider
                | SsoError::UnknownProvider { .. }
                | SsoError::SeveralProviders { .. } => "sso_no_provider",
                SsoError::Listen(_) => "internal",
            },
            AppError::Agent(AgentError::NotSignedIn) => "not_signed_in",
            AppError::Agent(AgentError::NoToken) => "signed_out",
            AppError::Agent(AgentError::BacklogOfAnotherAccount { .. }) => "backlog_other_account",
            AppError::Agent(AgentError::UnknownTask(_)) => "unknown_task",
            AppError::Agent(AgentError::LocalModeWithoutApp) => "local_mode",
            AppError::Agent(AgentError::AlreadyRunning { .. }) => "already_running",
            AppError::Store(metron_agent::store::StoreError::Corrupt { .. }) => "store_corrupt",
            AppError::Input(_) => "input",
            AppError::NoRelease => "no_release",
            _ => "internal",
        }
    }
}

impl AppError {
    /// As it crosses the socket to the window.
    pub fn to_wire(&self) -> WireError {
        match self {
            // The reason alone, as the provider or the server gave it: the window puts it in
            // its own sentence, in the person's language.
            AppError::Agent(AgentError::Sso(SsoError::Refused(why))) => {
                WireError::new(self.code(), why.clone())
            }
            _ => WireError::new(self.code(), self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window shows `err_<code>` in the person's language for every code it gets; a code
    /// without words would fall back to the English message.
    #[test]
    fn every_agent_error_the_window_branches_on_has_its_words_in_both_languages() {
        let i18n = include_str!("../../../ui/i18n.js");
        let (en, ru) = i18n
            .split_once("\n  ru: {")
            .expect("ui/i18n.js has an en and a ru table");
        let errors = [
            AgentError::NotSignedIn,
            AgentError::NoToken,
            AgentError::BacklogOfAnotherAccount {
                count: 3,
                owner: "a@x".into(),
                server: "https://x".into(),
                new: "b@x".into(),
            },
            AgentError::UnknownTask("Design".into()),
            AgentError::LocalModeWithoutApp,
            AgentError::AlreadyRunning {
                dir: "/tmp".into(),
                pid: Some(1),
            },
            AgentError::Server(ClientError::Unauthorized),
            AgentError::Server(ClientError::SecondFactorRequired),
            AgentError::Server(ClientError::SecondFactorInvalid),
            AgentError::Server(ClientError::Refused {
                status: 403,
                message: "second_factor_setup_required: set them up on the web page first".into(),
            }),
        ];
        let mut codes = std::collections::HashSet::new();
        for e in errors {
            let e = AppError::Agent(e);
            let key = format!("err_{}:", e.code());
            assert_ne!(e.code(), "internal", "{e} has no code of its own");
            assert!(
                en.contains(&key) && ru.contains(&key),
                "{key} is missing in English or Russian"
            );
            codes.insert(e.code());
        }
        assert_eq!(
            codes.len(),
            9,
            "NoToken and an expired session read alike: signed out"
        );
    }

    #[test]
    fn a_refused_identity_provider_sign_in_reaches_the_window_as_its_reason_with_words_for_every_code(
    ) {
        let i18n = include_str!("../../../ui/i18n.js");
        let (en, ru) = i18n.split_once("\n  ru: {").unwrap();
        let refused = AppError::Agent(AgentError::Sso(SsoError::Refused(
            "example.org is not an allowed email domain".into(),
        )));
        assert_eq!(
            refused.to_wire(),
            WireError::new("sso_refused", "example.org is not an allowed email domain")
        );
        for e in [
            SsoError::Refused("no".into()),
            SsoError::TimedOut,
            SsoError::Cancelled,
            SsoError::Browser("no xdg-open".into()),
            SsoError::NoProvider,
        ] {
            let e = AppError::Agent(AgentError::Sso(e));
            let key = format!("err_{}:", e.code());
            assert!(e.code().starts_with("sso_"), "{e}");
            assert!(
                en.contains(&key) && ru.contains(&key),
                "{key} is missing in English or Russian"
            );
        }
    }
}
