//! Errors as the UI receives them: `{code, message}` ([`WireError`]). The code is what the UI branches on
//! (and translates); the message is English for the log and for anything without a code.

use metron_agent::delivery::ClientError;
use metron_agent::AgentError;

use crate::protocol::WireError;

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
                ClientError::BadUrl(_) => "bad_url",
                ClientError::Connect { .. } | ClientError::Timeout { .. } | ClientError::Broken { .. } => "unreachable",
                ClientError::BadAnswer { .. } => "not_metron",
                ClientError::Unauthorized => "signed_out",
                // The window asks the person to confirm, then signs in again with `insecure`.
                ClientError::InsecureHttp { .. } => "insecure_http",
                ClientError::Redirected { .. } => "redirect",
                ClientError::Tls { .. } | ClientError::CaCert { .. } => "tls",
                _ => "server",
            },
            AppError::Store(metron_agent::store::StoreError::Corrupt { .. }) => "store_corrupt",
            AppError::Input(_) => "input",
            _ => "internal",
        }
    }
}

impl AppError {
    /// As it crosses the socket to the window.
    pub fn to_wire(&self) -> WireError {
        WireError::new(self.code(), self.to_string())
    }
}
