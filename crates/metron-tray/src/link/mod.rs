//! The link between the resident process and its window: one JSON object per line over a
//! local connection only its owner can open (a Unix socket in the data dir, a named pipe on
//! Windows: [`transport`]). [`protocol`] is what crosses it, [`socket`] the resident
//! process's end, [`client`] the window's.

pub mod client;
pub mod protocol;
pub mod socket;
pub mod transport;
