//! Mail and links: invitation and password-reset links (`<public_url>/#invite=<token>`, the
//! token in the fragment so it never reaches a server's or proxy's log), and their mail
//! through the `[smtp]` server of the settings (lettre on tokio, TLS by rustls).
//!
//! A mail is handed over on a task of its own with a deadline: the request waits for it a
//! little ([`ANSWER_WAIT`]) so the admin is told "sent" or why not, and a slow server never
//! holds the request longer; the task then finishes (or times out) alone and logs how it
//! went. The invitation or reset link is stored before any mail is tried, so a mail failure
//! loses nothing: the answer carries the link either way.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{SmtpSecurity, SmtpSettings};

/// How long a request waits for its mail before answering `pending`.
pub const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// A mail's deadline unless `[smtp] timeout` says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Whether `url` can start the links: http or https, a host, no query or fragment.
pub fn check_public_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.trim_end_matches('/').is_empty() {
        return Err("has no host".into());
    }
    if url.contains(['#', '?']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must have no query, fragment or spaces".into());
    }
    if url.len() > 2000 {
        return Err("is longer than 2,000 bytes".into());
    }
    Ok(())
}

/// Which page a link opens.
#[derive(Debug, Clone, Copy)]
pub enum LinkKind {
    Invite,
    Reset,
}

/// The link for `token`: absolute with a public URL, else the path for the page to complete.
pub fn link(public_url: Option<&str>, kind: LinkKind, token: &str) -> String {
    let base = public_url.map_or("", |u| u.trim_end_matches('/'));
    let key = match kind {
        LinkKind::Invite => "invite",
        LinkKind::Reset => "reset",
    };
    format!("{base}/#{key}={token}")
}

/// What became of a link's mail, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailOutcome {
    pub status: MailStatus,
    /// Why it failed (the mail server's words), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// No `[smtp]` in the settings: copy the link to the person.
    NotConfigured,
    /// The mail server accepted it.
    Sent,
    /// The mail server refused it or could not be reached: copy the link.
    Failed,
    /// Still being handed over; the server's log says how it ends.
    Pending,
}

impl MailOutcome {
    pub fn of(status: MailStatus) -> MailOutcome {
        MailOutcome {
            status,
            error: None,
        }
    }
}

/// One mail to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to_email: String,
    pub to_name: String,
    pub subject: String,
    pub body: String,
}

/// The configured mail server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl Mailer {
    /// The mailer of `[smtp]` (checked when the settings were loaded).
    pub fn new(smtp: &SmtpSettings) -> Result<Mailer, String> {
        let timeout = Duration::from_secs(smtp.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1));
        let builder = match smtp.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    .map_err(|e| e.to_string())?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| e.to_string())?,
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            }
        };
        let mut builder = builder.port(smtp.port()).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: smtp.from.parse().map_err(|e| format!("smtp.from: {e}"))?,
            timeout,
        })
    }

    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to = Mailbox::new(
            Some(mail.to_name.clone()).filter(|n| !n.is_empty()),
            mail.to_email
                .parse()
                .map_err(|e| format!("the address {}: {e}", mail.to_email))?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(self.timeout, self.transport.send(message))
            .await
            .map_err(|_| format!("no answer within {} s", self.timeout.as_secs()))?
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Sends `mails` one after another on a task of their own; waits up to [`ANSWER_WAIT`] for
/// them. The outcome of each (pending for those not done by then; every outcome is logged).
pub async fn deliver(mailer: Option<&Arc<Mailer>>, mails: Vec<Mail>) -> Vec<MailOutcome> {
    let Some(mailer) = mailer else {
        return vec![MailOutcome::of(MailStatus::NotConfigured); mails.len()];
    };
    let count = mails.len();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mailer = Arc::clone(mailer);
    tokio::spawn(async move {
        for (k, mail) in mails.into_iter().enumerate() {
            let outcome = match mailer.send(&mail).await {
                Ok(()) => {
                    tracing::info!(subject = %mail.subject, "mail sent");
                    MailOutcome::of(MailStatus::Sent)
                }
                Err(why) => {
                    tracing::warn!(subject = %mail.subject, %why, "mail not sent; the link stays valid");
                    MailOutcome {
                        status: MailStatus::Failed,
                        error: Some(why),
                    }
                }
            };
            // The request may have stopped waiting: the outcome is logged above either way.
            let _ = tx.send((k, outcome));
        }
    });
    let mut outcomes = vec![MailOutcome::of(MailStatus::Pending); count];
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    let mut done = 0;
    while done < count {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((k, outcome))) => {
                outcomes[k] = outcome;
                done += 1;
            }
            _ => break,
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_token_in_the_fragment() {
        assert_eq!(
            link(Some("https://m.example/"), LinkKind::Invite, "ab"),
            "https://m.example/#invite=ab"
        );
        assert_eq!(link(None, LinkKind::Reset, "cd"), "/#reset=cd");
    }

    #[test]
    fn a_public_url_is_an_http_address_without_query_or_fragment() {
        assert!(check_public_url("https://metron.example.com").is_ok());
        assert!(check_public_url("http://10.0.0.5:8750/").is_ok());
        for bad in [
            "metron.example.com",
            "https://",
            "https://x/#a",
            "https://x/?q",
            "ftp://x",
            "https://a b",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
    }
}
