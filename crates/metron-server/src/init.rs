//! The first run of a fresh install (`metron-server init`): the database (migrated by opening
//! it), the organization's first admin and, when it has no task yet, the task "General", so
//! the first person to sign in can track at once. It refuses an organization that already has
//! someone, before changing anything: it is for setting up, never a way to add a second admin
//! past the others (`metron-server user add --admin` is). It also words how to sign in, from
//! the address the server is configured to listen on.

use metron_core::wire::{NewTask, User};
use rand::Rng;

use crate::accounts::{self, AccountError};
use crate::db::DbError;
use crate::AppState;

/// The task made for a new organization.
pub const FIRST_TASK: &str = "General";

/// Characters of a generated password: letters and digits that can't be mistaken for each
/// other when read off a screen (no 0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// 24 of them: about 139 bits.
pub const GENERATED_PASSWORD_CHARS: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("the organization {org:?} already has {users} user(s): this server is set up already; add people with `metron-server user add`")]
    AlreadySetUp { org: String, users: usize },
    #[error("a user with email {0} already exists (in another organization)")]
    EmailTaken(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("creating the first task: {0}")]
    Task(String),
}

/// What `init` made.
#[derive(Debug)]
pub struct Initialized {
    pub admin: User,
    /// Whether the task "General" was made (the organization had none).
    pub made_first_task: bool,
}

/// A password for the first admin, drawn from `rng`.
pub fn generate_password(rng: &mut impl Rng) -> String {
    (0..GENERATED_PASSWORD_CHARS)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// Creates the organization's first admin (and the task "General" if it has no task). Every
/// check runs before the first write, so a refusal changes nothing.
pub async fn init(
    state: &AppState,
    org: &str,
    email: &str,
    name: &str,
    password: &str,
) -> Result<Initialized, InitError> {
    accounts::check_password(password)?;
    let email = accounts::normalize_email(email)?;
    if let Some(org_id) = state.db.find_organization(org).await? {
        let users = state.db.org_users(&org_id).await?.len();
        if users > 0 {
            return Err(InitError::AlreadySetUp {
                org: org.to_string(),
                users,
            });
        }
    }
    if state.db.user_by_email(&email).await?.is_some() {
        return Err(InitError::EmailTaken(email));
    }
    let admin = accounts::add_user(state, org, &email, name, password, true).await?;
    let org_id = state.db.organization(org).await?;
    let made_first_task = state.db.count_tasks(&org_id).await? == 0;
    if made_first_task {
        let task = NewTask {
            name: FIRST_TASK.into(),
            project: String::new(),
        };
        crate::projects::create_task(state, &crate::projects::Actor::operator(&org_id), task)
            .await
            .map_err(|e| InitError::Task(e.to_string()))?;
    }
    Ok(Initialized {
        admin,
        made_first_task,
    })
}

/// The address people sign in at, from the address the server listens on: `http://HOST:PORT`
/// (no trailing slash). A wildcard address (`0.0.0.0`, `[::]`) can't be typed into a browser,
/// so it stands as a placeholder for the machine's name.
pub fn sign_in_address(listen: &str) -> String {
    let host_port = match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => {
            format!("<this server's name or address>:{}", addr.port())
        }
        Ok(addr) => addr.to_string(),
        Err(_) => listen.to_string(),
    };
    format!("http://{host_port}")
}

/// What `init` tells the person who ran it: what it made, the password if it made one up
/// (shown this once), and how to sign in.
pub fn summary(
    org: &str,
    done: &Initialized,
    generated_password: Option<&str>,
    listen: &str,
) -> String {
    let admin = &done.admin;
    let email = &admin.email;
    let mut text = format!(
        "Metron is set up: organization {org:?} with its first admin, {} <{email}>",
        admin.name
    );
    if done.made_first_task {
        text += &format!(", and the task {FIRST_TASK:?}");
    }
    text += ".\n\n";
    text += &match generated_password {
        Some(password) => format!(
            "The password of {email}, shown this once (change it with `metron-server user passwd --email {email}`):\n\n    {password}\n\n"
        ),
        None => format!("The password of {email} is the one in METRON_PASSWORD.\n\n"),
    };
    let address = sign_in_address(listen);
    text += &format!(
        "Sign in
  in a browser:     {address}/
                    (behind a reverse proxy that terminates TLS: the proxy's https:// address)
  the desktop app:  Settings → Sign in to a team server, with that address
  a terminal:       metron-agent login --server {address} --email {email}
"
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn generated_passwords_are_long_unambiguous_and_differ() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = generate_password(&mut rng);
        let b = generate_password(&mut rng);
        assert_eq!(a.chars().count(), GENERATED_PASSWORD_CHARS);
        assert!(a.len() >= 20);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']), "{a}");
        assert!(accounts::check_password(&a).is_ok());
    }

    #[test]
    fn the_sign_in_address_comes_from_the_listen_address() {
        assert_eq!(sign_in_address("127.0.0.1:8750"), "http://127.0.0.1:8750");
        assert_eq!(sign_in_address("[::1]:8750"), "http://[::1]:8750");
        assert_eq!(
            sign_in_address("metron.example.com:80"),
            "http://metron.example.com:80"
        );
        assert_eq!(
            sign_in_address("0.0.0.0:8750"),
            "http://<this server's name or address>:8750"
        );
        assert_eq!(
            sign_in_address("[::]:9000"),
            "http://<this server's name or address>:9000"
        );
    }
}
