//! Where the bearer token lives: the OS keyring (Secret Service on Linux, via the keyring
//! crate), or, where no Secret Service runs (a server, a bare X session, CI), a file in the
//! data dir readable only by the user (mode 0600), the way `~/.ssh` keys are kept.
//!
//! One entry per data dir (keyed by its device id), so two agents on one machine never share
//! or delete each other's token. The token is never logged: [`Token`]'s Debug hides it.

use std::path::{Path, PathBuf};

use super::client::Token;

/// The keyring service name of every Metron token.
pub const KEYRING_SERVICE: &str = "dev.metron.agent";

/// Where a token ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlace {
    Keyring,
    /// No Secret Service: a file only the user can read.
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot keep the sign-in token in {path}: {source}")]
pub struct SecretError {
    path: PathBuf,
    source: std::io::Error,
}

/// The token of one data dir.
pub struct TokenStore {
    keyring_user: String,
    file: PathBuf,
}

impl TokenStore {
    pub fn new(data_dir: &Path, device_id: uuid::Uuid) -> TokenStore {
        TokenStore {
            keyring_user: format!("device-{device_id}"),
            file: data_dir.join("token"),
        }
    }

    fn entry(&self) -> Option<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, &self.keyring_user).ok()
    }

    /// Saves the token: the keyring when it works, else the private file.
    pub fn save(&self, token: &Token) -> Result<TokenPlace, SecretError> {
        match self.entry().map(|e| e.set_password(&token.0)) {
            Some(Ok(())) => {
                // A file left from a session without a keyring must not shadow the new token.
                let _ = std::fs::remove_file(&self.file);
                Ok(TokenPlace::Keyring)
            }
            failed => {
                let why = failed
                    .and_then(|r| r.err())
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "no keyring".into());
                tracing::info!(
                    "no usable Secret Service ({why}); keeping the token in {} (mode 0600)",
                    self.file.display()
                );
                self.write_file(token)?;
                Ok(TokenPlace::File(self.file.clone()))
            }
        }
    }

    fn write_file(&self, token: &Token) -> Result<(), SecretError> {
        crate::private::write_private(&self.file, token.0.as_bytes()).map_err(|source| {
            SecretError {
                path: self.file.clone(),
                source,
            }
        })
    }

    /// The saved token, if any. The file is read first: it exists only when the keyring
    /// could not take the token, and reading it needs no D-Bus round trip.
    pub fn load(&self) -> Option<Token> {
        if let Ok(text) = std::fs::read_to_string(&self.file) {
            let text = text.trim();
            if !text.is_empty() {
                return Some(Token(text.to_string()));
            }
        }
        match self.entry()?.get_password() {
            Ok(t) => Some(Token(t)),
            Err(keyring::Error::NoEntry) => None,
            Err(e) => {
                tracing::warn!("cannot read the token from the keyring: {e}");
                None
            }
        }
    }

    /// Forgets the token everywhere it may be.
    pub fn delete(&self) {
        let _ = std::fs::remove_file(&self.file);
        if let Some(entry) = self.entry() {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => tracing::debug!("keyring delete: {e}"),
            }
        }
    }
}
