//! Who the caller is, without HTTP: passwords (argon2id), sessions (bearer tokens stored as
//! hashes, their lifetimes, the cache checked against the revocation epoch) and the rate
//! limiters (login failures, task creation). The request extractor that uses them is
//! `crate::extract::AuthUser`.

pub mod limiter;
pub mod password;
pub mod session;

pub use limiter::{LoginLimiter, RateLimiter, LOGIN_LIMITER_KEYS, MAX_EMAIL_BYTES};
pub use password::{decoy_hash, hash_password, verify_password};
pub use session::{judge_token, new_token, token_hash, AuthCache, TokenRefusal};
