//! Errors as the UI receives them: `{code, message}`. A code exists only where the UI
//! branches on it; everything else is `internal` with a message a person can read.

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Agent(#[from] metron_agent::AgentError),
    #[error(transparent)]
    Store(#[from] metron_agent::store::StoreError),
}

impl AppError {
    fn code(&self) -> &'static str {
        match self {
            AppError::Store(metron_agent::store::StoreError::Corrupt { .. }) => "store_corrupt",
            _ => "internal",
        }
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("AppError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}
