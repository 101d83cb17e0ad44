//! Each person's own data (issue 28, GDPR articles 15, 17 and 20): what is collected about
//! them in one ZIP ([`export`]), who else read it ([`access`]), what the organization's
//! settings make of it ([`notice`]), and their removal with everything the server holds of
//! them ([`erase`]). The routes are `routes/mydata.rs`; the storage is `db/own_data.rs`.

pub mod access;
pub mod erase;
pub mod export;
pub mod notice;
