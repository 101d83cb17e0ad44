//! The server's settings and where they come from. Each one is taken from the first of: a
//! command-line flag, its environment variable (`METRON_DB`, `METRON_RETENTION_DAYS`, ...),
//! the settings file (TOML: `--config FILE`, `METRON_CONFIG`, or `/etc/metron/server.toml`
//! when that exists), and the built-in default. clap reads the flags and their variables, so a
//! command line means what it meant before there was a file; figment lays them over the file
//! and the defaults, and names the file and the key when the file is wrong (an unknown key, a
//! value of the wrong type or out of range). `packaging/server/server.toml` is the commented
//! file the packages install, and a test holds its comments to the defaults written here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::limits::Limits;

/// The file read when neither `--config` nor `METRON_CONFIG` names one, if it exists.
#[cfg(unix)]
pub const SYSTEM_FILE: Option<&str> = Some("/etc/metron/server.toml");
/// No system-wide file outside Unix: a service there is given `--config`.
#[cfg(not(unix))]
pub const SYSTEM_FILE: Option<&str> = None;

/// A settings file larger than this is refused rather than read (the whole file is a few KiB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Every setting, with its key in the file. `Default` is the built-in default of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// A SQLite path, `sqlite::memory:`, or a `postgres://` URL.
    pub database: String,
    /// The address and port `serve` listens on.
    pub listen: String,
    /// Days of raw intervals kept; older days stay as daily aggregates.
    pub retention_days: u32,
    /// Reverse proxies (CIDR) whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<IpNet>,
    pub limits: LimitSettings,
    /// The address people open the web page at (`https://metron.example.com`): invitation
    /// and password-reset links start with it. None: the API answers links as a path and the
    /// page puts its own address in front (never the request's Host header, which a client
    /// writes; docs/SECURITY.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The mail server invitation and reset links are sent through; none: nothing is mailed,
    /// the admin copies the link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSettings>,
    /// One organization's OpenID Connect provider (docs/SSO.md); the settings page shows it
    /// and can't change it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<crate::sso::SsoFile>,
}

/// The `[smtp]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Default: 587 with starttls, 465 with tls, 25 with none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The sender, `Metron <metron@example.com>` or a bare address.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Seconds one mail may take to be handed over (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted network.
    None,
}

impl SmtpSettings {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// The `[limits]` table: what the server keeps against hostile clients (docs/SECURITY.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    pub header_timeout: u64,
    pub body_timeout: u64,
    pub idle_timeout: u64,
    pub max_connections: u64,
    /// `None`: one per core; 0 counts as 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashing_permits: Option<usize>,
    pub token_lifetime_days: u64,
    pub token_idle_days: u64,
    pub max_bytes_per_user_day: u64,
    pub max_tasks_per_org: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database: "metron.sqlite".into(),
            listen: "127.0.0.1:8750".into(),
            retention_days: crate::retention::DEFAULT_DAYS,
            trusted_proxies: Vec::new(),
            limits: LimitSettings::default(),
            public_url: None,
            smtp: None,
            sso: None,
        }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        let limits = Limits::default();
        LimitSettings {
            header_timeout: limits.header_timeout.as_secs(),
            body_timeout: limits.body_timeout.as_secs(),
            idle_timeout: limits.idle_timeout.as_secs(),
            max_connections: limits.max_connections as u64,
            hashing_permits: None,
            token_lifetime_days: limits.token_lifetime.as_secs() / DAY,
            token_idle_days: limits.token_idle_lifetime.as_secs() / DAY,
            max_bytes_per_user_day: limits.max_bytes_per_user_day,
            max_tasks_per_org: limits.max_tasks_per_org,
        }
    }
}

const DAY: u64 = 86_400;

impl Settings {
    /// The limits these settings give; those the file can't set keep their defaults.
    pub fn limits(&self) -> Limits {
        let defaults = Limits::default();
        let l = &self.limits;
        let days = |d: u64| Duration::from_secs(d.saturating_mul(DAY));
        Limits {
            header_timeout: Duration::from_secs(l.header_timeout),
            body_timeout: Duration::from_secs(l.body_timeout),
            idle_timeout: Duration::from_secs(l.idle_timeout),
            max_connections: usize::try_from(l.max_connections).unwrap_or(usize::MAX),
            hashing_permits: l.hashing_permits.unwrap_or(defaults.hashing_permits).max(1),
            token_lifetime: days(l.token_lifetime_days),
            token_idle_lifetime: days(l.token_idle_days),
            trusted_proxies: self.trusted_proxies.clone(),
            max_bytes_per_user_day: l.max_bytes_per_user_day,
            max_tasks_per_org: l.max_tasks_per_org,
            ..defaults
        }
    }

    /// The values a type can hold but the server can't use, as (key, value, least allowed).
    fn out_of_range(&self) -> Vec<(&'static str, u64, u64)> {
        let l = &self.limits;
        [
            ("retention_days", u64::from(self.retention_days), 1),
            ("limits.header_timeout", l.header_timeout, 1),
            ("limits.body_timeout", l.body_timeout, 1),
            ("limits.idle_timeout", l.idle_timeout, 1),
            ("limits.max_connections", l.max_connections, 1),
            ("limits.token_lifetime_days", l.token_lifetime_days, 1),
            ("limits.token_idle_days", l.token_idle_days, 1),
        ]
        .into_iter()
        .filter(|(_, value, least)| value < least)
        .collect()
    }

    /// The settings to show a person: a PostgreSQL URL's password is replaced by `***`.
    pub fn redacted(&self) -> Settings {
        let mut shown = self.clone();
        if let Some((scheme, rest)) = self.database.split_once("://") {
            if let Some((credentials, host)) = rest.rsplit_once('@') {
                if let Some((user, _password)) = credentials.split_once(':') {
                    shown.database = format!("{scheme}://{user}:***@{host}");
                }
            }
        }
        if let Some(sso) = &mut shown.sso {
            if sso.settings.client_secret.is_some() {
                sso.settings.client_secret = Some("***".into());
            }
        }
        if let Some(smtp) = &mut shown.smtp {
            if smtp.password.is_some() {
                smtp.password = Some("***".into());
            }
        }
        shown
    }

    /// What is wrong with `public_url` and `[smtp]`, each as "key: why".
    fn mail_problems(&self) -> Vec<String> {
        let mut wrong = Vec::new();
        if let Some(url) = &self.public_url {
            if let Err(why) = crate::mail::check_public_url(url) {
                wrong.push(format!("public_url = {url:?}: {why}"));
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                wrong.push("smtp.host: empty".into());
            }
            if let Err(why) = smtp.from.parse::<lettre::message::Mailbox>() {
                wrong.push(format!("smtp.from = {:?}: {why}", smtp.from));
            }
            if smtp.username.is_some() != smtp.password.is_some() {
                wrong.push("smtp.username and smtp.password: give both or neither".into());
            }
            if smtp.timeout == Some(0) {
                wrong.push("smtp.timeout = 0: at least 1".into());
            }
            // A mailed link must not depend on anything a client sent.
            if self.public_url.is_none() {
                wrong.push("smtp: mailed links need public_url (the address of the page)".into());
            }
        }
        if let Some(sso) = &self.sso {
            if let Err(why) = sso.settings.row("", None, 0) {
                wrong.push(format!("sso.{why}"));
            }
            if self.public_url.is_none() {
                wrong.push("sso: the provider sends people back to public_url".into());
            }
        }
        wrong
    }
}

/// The settings of `serve` that a flag or its environment variable may give. `None` (or no
/// proxy) leaves the file's value or the default; the defaults shown are the built-in ones.
#[derive(Debug, Default, Clone, clap::Args, Serialize)]
pub struct ServeArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub listen: ListenArg,
    /// Days of raw intervals kept; older days stay as daily aggregates (reports unchanged,
    /// window titles and the timeline included) [default: 400]
    #[arg(long, env = "METRON_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// A reverse proxy (CIDR, repeatable) whose X-Forwarded-For names the client
    #[arg(
        long = "trusted-proxy",
        env = "METRON_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<IpNet>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Where `serve` listens (also read by `init`, which prints the address to sign in at).
#[derive(Debug, Default, Clone, clap::Args, Serialize)]
pub struct ListenArg {
    /// The address and port to listen on [default: 127.0.0.1:8750]
    #[arg(long, env = "METRON_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

/// The limits kept against hostile clients (docs/SECURITY.md), as flags.
#[derive(Debug, Default, Clone, clap::Args, Serialize)]
pub struct LimitArgs {
    /// Seconds a connection may take to send a request's headers (also ends idle keep-alive)
    /// [default: 10]
    #[arg(long, env = "METRON_HEADER_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout: Option<u64>,
    /// Seconds a request may take to send its body [default: 30]
    #[arg(long, env = "METRON_BODY_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout: Option<u64>,
    /// Seconds a connection may move no byte either way before it is closed [default: 60]
    #[arg(long, env = "METRON_IDLE_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// Connections open at once [default: 10000]
    #[arg(long, env = "METRON_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u64>,
    /// Password checks at once (0 counts as 1) [default: one per core]
    #[arg(long, env = "METRON_HASHING_PERMITS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashing_permits: Option<usize>,
    /// Days a token lives at most [default: 90]
    #[arg(long, env = "METRON_TOKEN_LIFETIME_DAYS", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_lifetime_days: Option<u64>,
    /// Days a token lives unused [default: 30]
    #[arg(long, env = "METRON_TOKEN_IDLE_DAYS", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_idle_days: Option<u64>,
    /// Interval bytes one person may store per day [default: 16777216]
    #[arg(long, env = "METRON_MAX_BYTES_PER_USER_DAY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes_per_user_day: Option<u64>,
    /// Tasks an organization may have [default: 10000]
    #[arg(long, env = "METRON_MAX_TASKS_PER_ORG")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tasks_per_org: Option<u64>,
}

/// What the command line (flags and their environment variables) gives, laid over the file.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CommandLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(flatten)]
    pub serve: ServeArgs,
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading the settings file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the settings file {} has {bytes} bytes; at most {MAX_FILE_BYTES}", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },
    /// An unknown key, a value of the wrong type or out of range: the text names where.
    #[error("{0}")]
    Invalid(String),
}

/// The file to read: the one named (by `--config` or `METRON_CONFIG`), else the system's file
/// if it exists, else none.
pub fn file_to_read(named: Option<&Path>) -> Option<PathBuf> {
    match named {
        Some(path) => Some(path.to_path_buf()),
        None => SYSTEM_FILE.map(PathBuf::from).filter(|p| p.exists()),
    }
}

/// The settings in effect: `command_line` over the `file` (if any) over the defaults.
pub fn load(file: Option<&Path>, command_line: &CommandLine) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        let read_error = |error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        };
        // Opened here first so a missing or unreadable file is an error (figment would read a
        // missing one as empty) and a huge one is refused before it is read.
        let bytes = std::fs::File::open(path)
            .and_then(|f| f.metadata())
            .map_err(read_error)?
            .len();
        if bytes > MAX_FILE_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_path_buf(),
                bytes,
            });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment.merge(Serialized::defaults(command_line));
    let settings: Settings = figment
        .extract()
        .map_err(|e| ConfigError::Invalid(describe(e, file)))?;
    let wrong: Vec<String> = settings
        .out_of_range()
        .into_iter()
        .map(|(key, value, least)| {
            let source = figment
                .find_metadata(key)
                .map(source_name)
                .unwrap_or_else(|| "the settings".into());
            format!("{source}: {key} = {value}: at least {least}")
        })
        .collect();
    let source = file.map_or_else(|| "the settings".into(), |f| f.display().to_string());
    let wrong: Vec<String> = wrong
        .into_iter()
        .chain(
            settings
                .mail_problems()
                .into_iter()
                .map(|why| format!("{source}: {why}")),
        )
        .collect();
    if !wrong.is_empty() {
        return Err(ConfigError::Invalid(wrong.join("; ")));
    }
    Ok(settings)
}

/// Where a value came from: the file's path, or the provider's name.
fn source_name(metadata: &figment::Metadata) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        _ => metadata.name.to_string(),
    }
}

/// figment's errors, each as "FILE: key: what is wrong".
fn describe(errors: figment::Error, file: Option<&Path>) -> String {
    errors
        .into_iter()
        .map(|e| {
            // The path ends with the key at fault (an unknown one included); a file TOML can't
            // parse has none.
            let key = e.path.join(".");
            // An unknown key can only come from the file: the other layers are written here.
            let source = e
                .metadata
                .as_ref()
                .map(source_name)
                .or_else(|| file.map(|f| f.display().to_string()));
            let source = source.unwrap_or_else(|| "the settings".into());
            if key.is_empty() {
                format!("{source}: {}", e.kind)
            } else {
                format!("{source}: {key}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn no_file_and_no_flags_give_the_built_in_defaults() {
        let settings = load(None, &CommandLine::default()).unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.database, "metron.sqlite");
        assert_eq!(settings.limits.header_timeout, 10);
        assert_eq!(settings.limits.token_lifetime_days, 90);
    }

    #[test]
    fn the_command_line_wins_over_the_file_key_by_key() {
        let (_dir, path) = file(
            "database = \"file.sqlite\"\nretention_days = 7\n[limits]\nheader_timeout = 3\nbody_timeout = 4\n",
        );
        let command_line = CommandLine {
            database: Some("flag.sqlite".into()),
            serve: ServeArgs {
                limits: LimitArgs {
                    header_timeout: Some(5),
                    ..LimitArgs::default()
                },
                ..ServeArgs::default()
            },
        };
        let settings = load(Some(&path), &command_line).unwrap();
        assert_eq!(settings.database, "flag.sqlite");
        assert_eq!(settings.retention_days, 7, "the file's, no flag");
        assert_eq!(settings.limits.header_timeout, 5);
        assert_eq!(settings.limits.body_timeout, 4);
        assert_eq!(settings.limits.idle_timeout, 60, "neither: the default");
    }

    #[test]
    fn an_unknown_key_names_the_file_and_the_key() {
        let (_dir, path) = file("[limits]\nheader_timeot = 5\n");
        let error = load(Some(&path), &CommandLine::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("limits.header_timeot"), "{error}");
        let (_dir, path) = file("databse = \"x\"\n");
        let error = load(Some(&path), &CommandLine::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("databse"), "{error}");
    }

    #[test]
    fn a_bad_value_names_the_file_and_the_key() {
        let (_dir, path) = file("[limits]\nbody_timeout = \"ten\"\n");
        let error = load(Some(&path), &CommandLine::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("limits.body_timeout"), "{error}");
        let (_dir, path) = file("retention_days = 0\n");
        let error = load(Some(&path), &CommandLine::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("{}: retention_days = 0", path.display())),
            "{error}"
        );
        let (_dir, path) = file("trusted_proxies = [\"10.0.0.0/33\"]\n");
        let error = load(Some(&path), &CommandLine::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("trusted_proxies"), "{error}");
    }

    #[test]
    fn a_missing_or_huge_named_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            load(Some(&missing), &CommandLine::default()),
            Err(ConfigError::Read { .. })
        ));
        let (_dir, huge) = file(&format!("# {}\n", "x".repeat(MAX_FILE_BYTES as usize)));
        assert!(matches!(
            load(Some(&huge), &CommandLine::default()),
            Err(ConfigError::TooLarge { .. })
        ));
    }

    #[test]
    fn every_flag_names_the_built_in_default_in_its_help() {
        let command = <ServeArgs as clap::Args>::augment_args(clap::Command::new("serve"));
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        let mut checked = 0;
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let value = defaults
                .get(id)
                .or_else(|| defaults["limits"].get(id))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from));
            let shown = match (id, value) {
                ("trusted_proxies", _) => continue,
                ("hashing_permits", _) => "one per core".to_string(),
                (_, Some(value)) => value,
                (_, None) => panic!("--{id} has no key in the settings"),
            };
            assert!(
                help.contains(&format!("[default: {shown}]")),
                "--{id}: {help:?} should say [default: {shown}]"
            );
            checked += 1;
        }
        assert_eq!(checked, 11);
    }

    #[test]
    fn smtp_needs_a_public_url_a_sender_and_both_credentials() {
        let good = "public_url = \"https://m.example\"\n[smtp]\nhost = \"mail.example\"\nfrom = \"Metron <m@example.com>\"\nusername = \"u\"\npassword = \"s3cret\"\n";
        let (_dir, path) = file(good);
        let settings = load(Some(&path), &CommandLine::default()).unwrap();
        let smtp = settings.smtp.as_ref().unwrap();
        assert_eq!((smtp.port(), smtp.security), (587, SmtpSecurity::Starttls));
        assert_eq!(
            settings.redacted().smtp.unwrap().password.as_deref(),
            Some("***")
        );
        for (text, key) in [
            (
                good.replace("public_url = \"https://m.example\"\n", ""),
                "public_url",
            ),
            (good.replace("https://m.example", "m.example"), "public_url"),
            (
                good.replace("Metron <m@example.com>", "nobody"),
                "smtp.from",
            ),
            (good.replace("password = \"s3cret\"\n", ""), "smtp.username"),
            (
                good.replace("host = \"mail.example\"", "host = \" \""),
                "smtp.host",
            ),
            (
                good.replace("[smtp]\n", "[smtp]\nsecurity = \"ssl\"\n"),
                "smtp.security",
            ),
        ] {
            let (_dir, path) = file(&text);
            let error = load(Some(&path), &CommandLine::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{key}: {error}");
        }
    }

    #[test]
    fn a_postgres_password_is_not_shown() {
        let settings = Settings {
            database: "postgres://metron:s3cret@db.example:5432/metron".into(),
            ..Settings::default()
        };
        assert_eq!(
            settings.redacted().database,
            "postgres://metron:***@db.example:5432/metron"
        );
        assert_eq!(Settings::default().redacted(), Settings::default());
    }
}
