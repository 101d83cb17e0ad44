//! The limits a server on the internet keeps against hostile or broken clients: connection
//! timeouts and counts, login hashing, token lifetimes, trusted proxies, stored bytes and tasks.
//! One value, set from the command line (`metron-server serve --help`), read everywhere through
//! `AppState::limits`; docs/SECURITY.md lists them with their defaults and why.

use ipnet::IpNet;
use std::net::IpAddr;
use std::time::Duration;

/// Every limit, with defaults that suit a team server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From the moment a connection waits for a request to the end of its headers. hyper starts
    /// this clock as soon as it waits, so it also ends keep-alive connections left idle.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body.
    pub body_timeout: Duration,
    /// A connection on which no byte moves either way (a pending read or write) for this long
    /// is closed: clients that stop reading their answer, or stall anywhere else.
    pub idle_timeout: Duration,
    /// After SIGTERM, how long requests in flight may take before their connections are cut.
    pub shutdown_grace: Duration,
    /// Open connections at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Requests being handled at once; more are answered 503 with Retry-After.
    pub max_requests_in_flight: usize,
    /// Password checks (argon2) at once; a login beyond them waits up to `hashing_wait`, then
    /// is answered 503 with Retry-After.
    pub hashing_permits: usize,
    pub hashing_wait: Duration,
    /// A token's absolute lifetime, and how long it lives unused.
    pub token_lifetime: Duration,
    pub token_idle_lifetime: Duration,
    /// Peers whose X-Forwarded-For is believed (reverse proxies).
    pub trusted_proxies: Vec<IpNet>,
    /// Interval bytes one user may store per UTC day (by start); beyond it items are refused.
    pub max_bytes_per_user_day: u64,
    /// Tasks an organization may have (archived ones count: they keep their history).
    pub max_tasks_per_org: u64,
    /// Projects an organization may have (archived ones count).
    pub max_projects_per_org: u64,
    /// Tasks one user may create a minute.
    pub task_creations_per_minute: usize,
    /// The widest range `GET /api/v1/intervals` reads; a wider one is cut to it (and says so).
    pub max_interval_range: Duration,
    /// The budget of everything else a person's time gains besides intervals (manual
    /// entries, corrections, withdrawals, submissions: each an audit row) per UTC day, in
    /// rows and in bytes; and the writes one caller may make a minute (those, and device
    /// reports). See `budget.rs`.
    pub max_writes_per_user_day: u64,
    pub max_write_bytes_per_user_day: u64,
    pub writes_per_minute: usize,
    /// Devices one person may have reported.
    pub max_devices_per_user: u64,
    /// Invitations an organization may issue an hour (re-sends and imported rows count).
    pub invitations_per_org_hour: u64,
    /// Bytes one export (the event log, a CSV) writes before it stops and says so: the
    /// bound on what one request costs the server in time and bandwidth (its memory is
    /// bounded by streaming a day at a time, whatever this is).
    pub max_export_bytes: u64,
    /// Event-log exports running at once (each holds one day of intervals and a thread);
    /// another waits up to `export_wait`, then is answered 503 with Retry-After.
    pub export_permits: usize,
    pub export_wait: Duration,
}

const DAY: u64 = 86_400;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(5),
            max_connections: 10_000,
            max_requests_in_flight: 1_024,
            hashing_permits: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hashing_wait: Duration::from_secs(2),
            token_lifetime: Duration::from_secs(90 * DAY),
            token_idle_lifetime: Duration::from_secs(30 * DAY),
            trusted_proxies: Vec::new(),
            max_bytes_per_user_day: 16 * 1024 * 1024,
            max_tasks_per_org: 10_000,
            max_projects_per_org: 1_000,
            task_creations_per_minute: 30,
            max_interval_range: Duration::from_secs(31 * DAY),
            max_writes_per_user_day: 1_000,
            max_write_bytes_per_user_day: 2 * 1024 * 1024,
            writes_per_minute: 60,
            max_devices_per_user: 100,
            invitations_per_org_hour: 1_000,
            max_export_bytes: 1024 * 1024 * 1024,
            export_permits: 2,
            export_wait: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    /// address of X-Forwarded-For that is not itself a trusted proxy (each proxy appends the
    /// address it saw, so the ones to the left were written by whoever connected first and can
    /// be forged; the right-most untrusted one was seen by a proxy we trust).
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let Some(chain) = forwarded_for else {
            return Some(peer);
        };
        let mut client = peer;
        for hop in chain.rsplit(',') {
            let Ok(addr) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = addr;
            if !self.is_trusted(addr) {
                break;
            }
        }
        Some(client)
    }

    fn is_trusted(&self, addr: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let none = Limits::default();
        assert_eq!(
            none.client_address(ip("203.0.113.9"), Some("10.9.9.9")),
            ip("203.0.113.9"),
            "no proxy is trusted by default"
        );
        let proxied = Limits {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..Limits::default()
        };
        assert_eq!(
            proxied.client_address(ip("10.0.0.2"), Some("198.51.100.7")),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxied.client_address(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 10.0.0.5")),
            ip("198.51.100.7"),
            "the forged left part is ignored"
        );
        assert_eq!(proxied.client_address(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(
            proxied.client_address(ip("10.0.0.2"), Some("garbage")),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxied.client_address(ip("192.0.2.1"), Some("198.51.100.7")),
            ip("192.0.2.1"),
            "an untrusted peer's header is ignored"
        );
    }
}
