//! Invitations and password-reset links (issue 28): who may be invited and how an
//! invitation is checked, issued (a random 256-bit token, kept as its SHA-256 hash, valid
//! [`INVITATION_DAYS`] days, capped per organization and hour), re-sent, revoked and
//! accepted; the bulk import of a CSV checked whole before anything is written; and the
//! one-hour reset links. Shared by the API (`routes/invitations.rs`, `routes/resets.rs`) and
//! the `metron-server user ...` commands, so both check and record alike.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::accounts::{normalize_email, plain_name};
use crate::auth::{new_token, token_hash};
use crate::db::{DbError, InvitationRow, LinkState, ResetRow, UserRow};
use crate::error::ApiError;
use crate::mail::{self, LinkKind, Mail, MailOutcome};
use crate::routes::people::Role;
use crate::timesheets::audit;
use crate::AppState;

/// Days an invitation's link is valid.
pub const INVITATION_DAYS: i64 = 7;
/// Seconds a password-reset link is valid.
pub const RESET_SECS: i64 = 3600;
/// Rows of one CSV import at most (a header row besides).
pub const MAX_IMPORT_ROWS: usize = 1_000;
/// Bytes of one CSV import at most.
pub const MAX_IMPORT_BYTES: usize = 512 * 1024;
/// The hour the invitation cap counts over.
const HOUR: i64 = 3600;

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "" | "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// An invitation as the API shows it (its token never: only the link made when it is issued).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    /// The name the admin gave (the invitee chooses their own when accepting); may be empty.
    pub name: String,
    pub role: Role,
    /// The person who will manage the invitee.
    pub manager_id: Option<String>,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The link no longer works: re-send it or revoke it.
    pub expired: bool,
}

impl Invitation {
    pub fn of(row: &InvitationRow, now: i64) -> Invitation {
        Invitation {
            id: row.id.clone(),
            email: row.email.clone(),
            name: row.name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Member),
            manager_id: row.manager_id.clone(),
            invited_by: row.invited_by.clone(),
            created_at: DateTime::from_timestamp(row.created_at, 0).unwrap_or_default(),
            expires_at: DateTime::from_timestamp(row.expires_at, 0).unwrap_or_default(),
            expired: now >= row.expires_at,
        }
    }
}

/// An invitation just issued: its one-time link (to copy) and what became of its mail.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// `<public_url>/#invite=<token>`, or `/#invite=<token>` when no public URL is set (the
    /// page puts its own address in front).
    pub link: String,
    pub mail: MailOutcome,
}

/// What is wrong with one invitation (or one CSV row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("bad email: {0}")]
    BadEmail(String),
    #[error("duplicate in file: line {0} has the same email")]
    DuplicateInFile(u64),
    #[error("already a person: {0} has an account")]
    AlreadyAPerson(String),
    #[error("already invited: {0} has a pending invitation (re-send or revoke it)")]
    AlreadyInvited(String),
    #[error("unknown manager: no enabled person {0} in your organization")]
    UnknownManager(String),
    #[error("bad role: {0:?} is not admin, manager or member")]
    BadRole(String),
    #[error("bad text: {0}")]
    BadText(String),
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        match p {
            Problem::AlreadyAPerson(_) | Problem::AlreadyInvited(_) => {
                ApiError::Conflict(p.to_string())
            }
            _ => ApiError::BadRequest(p.to_string()),
        }
    }
}

/// An invitation that passed every check, ready to issue.
#[derive(Debug, Clone)]
pub struct Checked {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub manager_id: Option<String>,
    /// An expired invitation of the same email, revoked as this one is issued.
    pub replaces: Option<String>,
}

/// The organization's people and pending invitations, read once for a batch of checks.
pub struct Roster {
    /// Enabled people of the organization by email: their id.
    enabled: HashMap<String, String>,
    /// Enabled people by id.
    enabled_ids: HashMap<String, String>,
    /// Pending invitations by email.
    pending: HashMap<String, InvitationRow>,
    now: i64,
}

impl Roster {
    pub async fn read(state: &AppState, org_id: &str, now: i64) -> Result<Roster, ApiError> {
        let mut enabled = HashMap::new();
        let mut enabled_ids = HashMap::new();
        for row in state.db.org_user_rows(org_id).await? {
            if !row.disabled {
                enabled.insert(row.user.email.clone(), row.user.id.clone());
                enabled_ids.insert(row.user.id.clone(), row.user.email.clone());
            }
        }
        let pending = state
            .db
            .pending_invitations(org_id)
            .await?
            .into_iter()
            .map(|row| (row.email.clone(), row))
            .collect();
        Ok(Roster {
            enabled,
            enabled_ids,
            pending,
            now,
        })
    }

    /// Checks one invitation; `manager` is a person's id (`by_email` false) or email (true).
    /// The outer error is the database's.
    pub async fn check(
        &self,
        state: &AppState,
        email: &str,
        name: &str,
        role: &str,
        manager: Option<&str>,
        manager_by_email: bool,
    ) -> Result<Result<Checked, Problem>, DbError> {
        let checked = match self.check_fields(email, name, role, manager, manager_by_email) {
            Ok(c) => c,
            Err(p) => return Ok(Err(p)),
        };
        // Emails are unique over every organization: a person elsewhere can't be invited.
        if state.db.user_by_email(&checked.email).await?.is_some() {
            return Ok(Err(Problem::AlreadyAPerson(checked.email)));
        }
        Ok(Ok(checked))
    }

    /// The checks that need no query.
    fn check_fields(
        &self,
        email: &str,
        name: &str,
        role: &str,
        manager: Option<&str>,
        manager_by_email: bool,
    ) -> Result<Checked, Problem> {
        metron_core::limits::check_text("the email", email, 1024).map_err(Problem::BadText)?;
        let email = normalize_email(email)
            .ok()
            // A mail must reach it: an address as SMTP takes one (lettre's check), not only
            // something with an @.
            .filter(|e| e.parse::<lettre::Address>().is_ok())
            .ok_or_else(|| Problem::BadEmail(email.into()))?;
        let name = if name.trim().is_empty() {
            String::new()
        } else {
            plain_name(name).map_err(|e| Problem::BadText(e.to_string()))?
        };
        metron_core::limits::check_text("the role", role, 100).map_err(Problem::BadText)?;
        let role = Role::parse(role).ok_or_else(|| Problem::BadRole(role.into()))?;
        let manager_id = match manager.map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(m) if m.len() > 254 || m.chars().any(char::is_control) => {
                return Err(Problem::BadText(
                    "the manager is not a person's id or email".into(),
                ))
            }
            Some(m) if manager_by_email => Some(
                self.enabled
                    .get(&m.to_lowercase())
                    .cloned()
                    .ok_or_else(|| Problem::UnknownManager(m.into()))?,
            ),
            Some(m) => Some(
                self.enabled_ids
                    .contains_key(m)
                    .then(|| m.to_string())
                    .ok_or_else(|| Problem::UnknownManager(m.into()))?,
            ),
        };
        let replaces = match self.pending.get(&email) {
            Some(row) if self.now < row.expires_at => return Err(Problem::AlreadyInvited(email)),
            Some(row) => Some(row.id.clone()),
            None => None,
        };
        Ok(Checked {
            email,
            name,
            role,
            manager_id,
            replaces,
        })
    }
}

/// Refuses (429 with Retry-After) `count` more invitations when the organization would pass
/// its hourly cap (`Limits::invitations_per_org_hour`).
async fn within_cap(
    state: &AppState,
    org_id: &str,
    count: usize,
    now: i64,
) -> Result<(), ApiError> {
    let cap = state.limits.invitations_per_org_hour;
    let (issued, earliest) = state.db.invitations_since(org_id, now - HOUR).await?;
    let issued = u64::try_from(issued).unwrap_or(0);
    if issued + count as u64 <= cap {
        return Ok(());
    }
    let retry_after = if count as u64 > cap {
        HOUR
    } else {
        earliest.map_or(HOUR, |t| (t + HOUR - now).clamp(1, HOUR))
    };
    Err(ApiError::Quota {
        message: format!(
            "your organization may issue {cap} invitations an hour and issued {issued} in the \
             last hour; {count} more would pass it"
        ),
        retry_after: u64::try_from(retry_after).unwrap_or(1),
    })
}

/// Issues checked invitations from `actor` (one transaction: all or none), then mails them
/// where SMTP is configured. Each revokes the invitation it replaces (a re-send, an expired
/// one of the same email) in the same transaction.
pub async fn issue(
    state: &AppState,
    actor: &UserRow,
    checked: Vec<Checked>,
) -> Result<Vec<IssuedInvitation>, ApiError> {
    let now = Utc::now().timestamp();
    within_cap(state, &actor.org_id, checked.len(), now).await?;
    let mut rows = Vec::with_capacity(checked.len());
    let mut audits = Vec::with_capacity(checked.len());
    let mut tokens = Vec::with_capacity(checked.len());
    let mut revoke = Vec::new();
    for c in checked {
        let token = new_token();
        let row = InvitationRow {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: actor.org_id.clone(),
            email: c.email,
            name: c.name,
            role: c.role.as_str().into(),
            manager_id: c.manager_id,
            invited_by: actor.user.id.clone(),
            created_at: now,
            expires_at: now + INVITATION_DAYS * 86_400,
            accepted_at: None,
            revoked_at: None,
            user_id: None,
        };
        let replaced: Vec<String> = c.replaces.into_iter().collect();
        audits.push(invitation_audit(
            actor,
            &row,
            "invitation.create",
            &replaced,
        ));
        revoke.extend(replaced);
        rows.push((row, token_hash(&token)));
        tokens.push(token);
    }
    state
        .db
        .create_invitations(&rows, &revoke, now, &audits)
        .await?;
    let public_url = state.public_url.as_deref();
    let links: Vec<String> = tokens
        .iter()
        .map(|t| mail::link(public_url, LinkKind::Invite, t))
        .collect();
    let mails = rows
        .iter()
        .zip(&links)
        .map(|((row, _), link)| Mail {
            to_email: row.email.clone(),
            to_name: row.name.clone(),
            subject: format!("{} invites you to Metron", actor.user.name),
            body: format!(
                "Hello{},\n\n{} invites you to track your time with Metron.\n\nOpen this link \
                 within {INVITATION_DAYS} days to choose your password; it works once:\n\n{link}\n\n\
                 If you did not expect this invitation, ignore this mail.\n",
                if row.name.is_empty() { String::new() } else { format!(" {}", row.name) },
                actor.user.name,
            ),
        })
        .collect();
    // A link that is only a path can't be mailed: the admin copies it from the page.
    let outcomes = if public_url.is_some() {
        mail::deliver(state.mailer.as_ref(), mails).await
    } else {
        vec![MailOutcome::of(mail::MailStatus::NotConfigured); rows.len()]
    };
    Ok(rows
        .iter()
        .zip(links)
        .zip(outcomes)
        .map(|(((row, _), link), mail)| IssuedInvitation {
            invitation: Invitation::of(row, now),
            link,
            mail,
        })
        .collect())
}

/// The audit row of an invitation: its role and manager, never its email or name (personal
/// data the append-only trail could never erase); `user_id` is the invitation's id until a
/// person exists.
fn invitation_audit(
    actor: &UserRow,
    row: &InvitationRow,
    action: &str,
    revoked: &[String],
) -> crate::db::timesheets::AuditRow {
    let mut subject = actor.clone();
    subject.user.id = row.id.clone();
    subject.org_id = row.org_id.clone();
    audit(
        actor,
        &subject,
        action,
        &row.id,
        None,
        Some(serde_json::json!({
            "role": row.role,
            "manager_id": row.manager_id,
            "expires_at": row.expires_at,
            "replaces": revoked,
        })),
        "",
    )
}

/// Re-sends an invitation: a new token and link, the old one revoked (expired ones too).
pub async fn resend(
    state: &AppState,
    actor: &UserRow,
    id: &str,
) -> Result<IssuedInvitation, ApiError> {
    let row = pending_of(state, actor, id).await?;
    let checked = Checked {
        email: row.email.clone(),
        name: row.name.clone(),
        role: Role::parse(&row.role).unwrap_or(Role::Member),
        manager_id: row.manager_id.clone(),
        replaces: Some(row.id),
    };
    let mut issued = issue(state, actor, vec![checked]).await?;
    issued
        .pop()
        .ok_or_else(|| ApiError::Internal("an issued invitation went missing".into()))
}

/// Revokes a pending invitation of the actor's organization.
pub async fn revoke(state: &AppState, actor: &UserRow, id: &str) -> Result<(), ApiError> {
    let row = pending_of(state, actor, id).await?;
    let record = invitation_audit(actor, &row, "invitation.revoke", &[]);
    if !state
        .db
        .revoke_invitation(&row.id, Utc::now().timestamp(), &record)
        .await?
    {
        return Err(ApiError::Conflict(
            "the invitation was accepted or revoked meanwhile".into(),
        ));
    }
    Ok(())
}

/// The pending invitation `id` of the actor's organization (another's is "not found").
async fn pending_of(
    state: &AppState,
    actor: &UserRow,
    id: &str,
) -> Result<InvitationRow, ApiError> {
    let row = state
        .db
        .invitation(id)
        .await?
        .filter(|r| r.org_id == actor.org_id)
        .ok_or_else(|| ApiError::NotFound(format!("no invitation {id} in your organization")))?;
    if row.accepted_at.is_some() {
        return Err(ApiError::Conflict(
            "the invitation was accepted already".into(),
        ));
    }
    if row.revoked_at.is_some() {
        return Err(ApiError::Conflict(
            "the invitation was revoked (or re-sent)".into(),
        ));
    }
    Ok(row)
}

/// The refusal of a link in `state` ("invitation" or "password-reset").
pub fn link_refusal(what: &str, state: LinkState) -> ApiError {
    match state {
        LinkState::Unknown => ApiError::NotFound(format!(
            "this {what} link is not valid: check that it was copied whole"
        )),
        LinkState::Expired => ApiError::Gone(format!(
            "this {what} link has expired: ask your admin for a new one"
        )),
        LinkState::Used => ApiError::Gone(format!("this {what} link was used already")),
        LinkState::Revoked => ApiError::Gone(format!(
            "this {what} link was revoked (or replaced by a newer one)"
        )),
    }
}

/// A token as the links carry it: 64 hex digits. Anything else is refused before a lookup.
pub fn well_formed_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One bad row of an import.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// The row's email as written (cut to 254 bytes), empty when unreadable.
    pub email: String,
    pub reason: String,
}

/// Checks a CSV of `email,name,role,manager` (a header row naming those columns, in any order;
/// the manager by email) whole: every good row, or every bad row with why.
pub async fn check_import(
    state: &AppState,
    actor: &UserRow,
    text: &str,
) -> Result<Result<Vec<Checked>, Vec<RowProblem>>, ApiError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("the CSV's header row is unreadable: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(c_email), c_name, c_role, c_manager) = (
        column("email"),
        column("name"),
        column("role"),
        column("manager"),
    ) else {
        return Err(ApiError::BadRequest(
            "the CSV needs a header row: email,name,role,manager".into(),
        ));
    };
    if let Some(extra) = headers.iter().find(|h| {
        !["email", "name", "role", "manager"]
            .iter()
            .any(|k| h.eq_ignore_ascii_case(k))
    }) {
        return Err(ApiError::BadRequest(format!(
            "unknown column {:?}: the columns are email,name,role,manager",
            extra.chars().take(40).collect::<String>()
        )));
    }
    let roster = Roster::read(state, &actor.org_id, Utc::now().timestamp()).await?;
    let mut good = Vec::new();
    let mut problems = Vec::new();
    let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
    for (k, record) in reader.records().enumerate() {
        if k >= MAX_IMPORT_ROWS {
            return Err(ApiError::BadRequest(format!(
                "at most {MAX_IMPORT_ROWS} rows per import"
            )));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(RowProblem {
                    line: e.position().map_or(k as u64 + 2, |p| p.line()),
                    email: String::new(),
                    reason: format!("bad text: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(k as u64 + 2, |p| p.line());
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let email = field(Some(c_email));
        let shown: String = email.chars().take(254).collect();
        let key = email.trim().to_lowercase();
        if let Some(first) = first_line.get(&key) {
            problems.push(RowProblem {
                line,
                email: shown,
                reason: Problem::DuplicateInFile(*first).to_string(),
            });
            continue;
        }
        first_line.insert(key, line);
        match roster
            .check(
                state,
                email,
                field(c_name),
                field(c_role),
                Some(field(c_manager)),
                true,
            )
            .await?
        {
            Ok(c) => good.push(c),
            Err(p) => problems.push(RowProblem {
                line,
                email: shown,
                reason: p.to_string(),
            }),
        }
    }
    if good.is_empty() && problems.is_empty() {
        return Err(ApiError::BadRequest("the CSV has no rows".into()));
    }
    Ok(if problems.is_empty() {
        Ok(good)
    } else {
        Err(problems)
    })
}

/// A reset link just issued.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedReset {
    /// `<public_url>/#reset=<token>` (or the path alone): works once, for an hour.
    pub link: String,
    pub expires_at: DateTime<Utc>,
    pub mail: MailOutcome,
}

/// Issues a one-hour reset link for `person` (enabled) and mails it where SMTP is set;
/// earlier unused links of theirs stop working.
pub async fn issue_reset(
    state: &AppState,
    actor: &UserRow,
    person: &UserRow,
) -> Result<IssuedReset, ApiError> {
    if person.disabled {
        return Err(ApiError::Conflict(
            "the person is disabled: enable them before resetting their password".into(),
        ));
    }
    let now = Utc::now().timestamp();
    let token = new_token();
    let reset = ResetRow {
        user_id: person.user.id.clone(),
        org_id: person.org_id.clone(),
        created_by: actor.user.id.clone(),
        created_at: now,
        expires_at: now + RESET_SECS,
        used_at: None,
        revoked_at: None,
    };
    let record = audit(
        actor,
        person,
        "password.reset_link",
        &person.user.id,
        None,
        Some(serde_json::json!({ "expires_at": reset.expires_at })),
        "",
    );
    state
        .db
        .create_reset(&token_hash(&token), &reset, &record)
        .await?;
    let public_url = state.public_url.as_deref();
    let link = mail::link(public_url, LinkKind::Reset, &token);
    let outcome = if public_url.is_some() {
        mail::deliver(
            state.mailer.as_ref(),
            vec![Mail {
                to_email: person.user.email.clone(),
                to_name: person.user.name.clone(),
                subject: "Choose a new Metron password".into(),
                body: format!(
                    "Hello {},\n\n{} made you a link to choose a new Metron password. It works \
                     once, within the hour:\n\n{link}\n\nYour devices will ask you to sign in \
                     again. If you did not ask for this, tell your admin.\n",
                    person.user.name, actor.user.name
                ),
            }],
        )
        .await
        .pop()
        .unwrap_or(MailOutcome::of(mail::MailStatus::Pending))
    } else {
        MailOutcome::of(mail::MailStatus::NotConfigured)
    };
    Ok(IssuedReset {
        link,
        expires_at: DateTime::from_timestamp(reset.expires_at, 0).unwrap_or_default(),
        mail: outcome,
    })
}

/// The stand-in actor of changes made on the server's command line (`metron-server user
/// invite`, ...): audit rows name the actor `cli`.
pub fn cli_actor(org_id: &str) -> UserRow {
    UserRow {
        user: metron_core::wire::User {
            id: "cli".into(),
            email: String::new(),
            name: "the server's command line".into(),
            admin: true,
        },
        org_id: org_id.into(),
        disabled: false,
    }
}
