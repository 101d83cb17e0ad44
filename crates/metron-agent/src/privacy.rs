//! The privacy settings (SPEC E6) of a data dir, in one file beside the store,
//! `privacy.json`: the desktop app writes it from its settings and every tracker of the data dir
//! (the app, `metron-agent track`) reads it, so the same person is recorded the same way
//! whichever program tracks. `track`'s flags override it for one run.
//!
//! A file that can't be read or understood gives the most private policy (no titles, no URLs)
//! and a message to show: guessing "record everything" would record what the person turned off.

use metron_core::PrivacyPolicy;
use std::path::{Path, PathBuf};

/// The privacy file of a data dir.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("privacy.json")
}

/// What was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub policy: PrivacyPolicy,
    /// No file yet: the policy is the default one.
    pub missing: bool,
    /// The file was unreadable or damaged (why, for the person); the policy is the most private.
    pub problem: Option<String>,
}

pub fn load(data_dir: &Path) -> Loaded {
    let path = path(data_dir);
    let damaged = |why: String| Loaded {
        policy: PrivacyPolicy::most_private(),
        missing: false,
        problem: Some(why),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(policy) => Loaded {
                policy,
                missing: false,
                problem: None,
            },
            Err(e) => damaged(format!(
                "the privacy settings {} are damaged ({e})",
                path.display()
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded {
            policy: PrivacyPolicy::default(),
            missing: true,
            problem: None,
        },
        Err(e) => damaged(format!(
            "the privacy settings {} cannot be read ({e})",
            path.display()
        )),
    }
}

/// Saves the policy (0600, synced, replaced atomically).
pub fn save(data_dir: &Path, policy: &PrivacyPolicy) -> std::io::Result<()> {
    crate::private::private_dir(data_dir)?;
    crate::private::write_private(
        &path(data_dir),
        &serde_json::to_vec_pretty(policy).expect("a policy serializes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use metron_core::UrlPolicy;

    #[test]
    fn missing_is_the_default_and_a_saved_policy_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(dir.path());
        assert!(first.missing && first.problem.is_none());
        assert_eq!(first.policy, PrivacyPolicy::default());
        let chosen = PrivacyPolicy {
            record_titles: false,
            urls: UrlPolicy::HostOnly,
            excluded_apps: vec!["KeePassXC".into()],
        };
        save(dir.path(), &chosen).unwrap();
        assert_eq!(
            load(dir.path()),
            Loaded {
                policy: chosen,
                missing: false,
                problem: None
            }
        );
    }

    #[test]
    fn a_damaged_file_gives_the_most_private_policy_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "{\"record_titles\": tru").unwrap();
        let loaded = load(dir.path());
        assert_eq!(loaded.policy, PrivacyPolicy::most_private());
        assert!(loaded.problem.unwrap().contains("damaged"));
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_file_gives_the_most_private_policy() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: reading fails whoever runs the test (root too).
        std::fs::create_dir(path(dir.path())).unwrap();
        let loaded = load(dir.path());
        assert_eq!(loaded.policy, PrivacyPolicy::most_private());
        assert!(loaded.problem.unwrap().contains("cannot be read"));
    }
}
