//! The app's settings (U1): language, privacy (E6), the idle notice, autostart. The privacy part
//! lives in the data dir (`metron_agent::privacy`), where `metron-agent track` reads it too;
//! the rest is one JSON file in the app's config dir. Both are written privately and durably
//! (0600, synced, renamed into place). A damaged file is set aside with a notice, never a crash,
//! and its privacy falls back to the most private: titles and addresses off.

use metron_core::PrivacyPolicy;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The language setting: "auto" (the OS locale's), "en" or "ru" in the file and on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Auto,
    En,
    Ru,
}

/// The language the app speaks now: the setting, with "auto" resolved from the OS locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    English,
    Russian,
}

impl Language {
    pub fn speaks(self) -> Speaks {
        match self {
            Language::Ru => Speaks::Russian,
            Language::En => Speaks::English,
            Language::Auto if crate::os_locale() == "ru" => Speaks::Russian,
            Language::Auto => Speaks::English,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub language: Language,
    pub privacy: PrivacyPolicy,
    /// Notify when tracking stops for idle or sleep.
    pub idle_notice: bool,
    /// Start Metron (to the tray) at login.
    pub autostart: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: Language::Auto,
            privacy: PrivacyPolicy::default(),
            idle_notice: true,
            autostart: false,
        }
    }
}

/// Loads the settings; a file that can't be read as settings is renamed aside and the
/// defaults are used, with the most private privacy policy. Returns the settings and, then, a
/// message for the person. The privacy read here is only a previous version's (see
/// [`load_privacy`]).
pub fn load(path: &Path) -> (Settings, Option<String>) {
    let fallback = || Settings {
        privacy: PrivacyPolicy::most_private(),
        ..Settings::default()
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
        Err(e) => {
            return (
                fallback(),
                Some(format!(
                    "cannot read the settings file {}: {e}; defaults are used",
                    path.display()
                )),
            )
        }
    };
    match serde_json::from_str::<Settings>(&text) {
        Ok(s) => (s, None),
        Err(e) => {
            let aside = PathBuf::from(format!(
                "{}.corrupt-{}",
                path.display(),
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            let moved = std::fs::rename(path, &aside).is_ok();
            tracing::warn!(error = %e, "the settings file is damaged");
            let message = if moved {
                format!("The settings file was damaged ({e}). It was set aside as {} and the defaults are used.", aside.display())
            } else {
                format!(
                    "The settings file {} is damaged ({e}); the defaults are used.",
                    path.display()
                )
            };
            (fallback(), Some(message))
        }
    }
}

/// Puts the data dir's privacy settings into `settings`. With no privacy file yet (a first
/// start, or a version that kept privacy in settings.json), the one `settings` has is written
/// there, so `metron-agent track` records the same. Returns a message when the file was
/// damaged or unreadable (the policy is then the most private).
pub fn load_privacy(data_dir: &Path, settings: &mut Settings) -> Option<String> {
    let loaded = metron_agent::privacy::load(data_dir);
    if loaded.missing {
        if let Err(e) = metron_agent::privacy::save(data_dir, &settings.privacy) {
            tracing::warn!(
                "cannot write the privacy settings to {}: {e}",
                data_dir.display()
            );
        }
        return None;
    }
    settings.privacy = loaded.policy;
    loaded.problem.map(|p| {
        format!(
            "{p}; window titles and addresses are not recorded until you save the settings again."
        )
    })
}

/// Saves the settings: privacy into the data dir, the rest into `path`.
pub fn save(path: &Path, data_dir: &Path, settings: &Settings) -> std::io::Result<()> {
    metron_agent::privacy::save(data_dir, &settings.privacy)?;
    if let Some(dir) = path.parent() {
        metron_agent::private::private_dir(dir)?;
    }
    let mut value = serde_json::to_value(settings).expect("settings serialize");
    if let Some(fields) = value.as_object_mut() {
        // One source of truth for privacy: the data dir's file.
        fields.remove("privacy");
    }
    metron_agent::private::write_private(
        path,
        &serde_json::to_vec_pretty(&value).expect("settings serialize"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_set_aside_and_the_most_private_defaults_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(load(&path), (Settings::default(), None));
        std::fs::write(&path, "{\"language\": \"ru\", \"idle_notice\": tru").unwrap();
        let (settings, notice) = load(&path);
        assert_eq!(
            settings,
            Settings {
                privacy: PrivacyPolicy::most_private(),
                ..Settings::default()
            }
        );
        assert!(notice.unwrap().contains("set aside"));
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the damaged file is kept beside"
        );
    }

    #[test]
    fn privacy_is_saved_in_the_data_dir_and_the_rest_in_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let (config, data) = (
            dir.path().join("config/settings.json"),
            dir.path().join("data"),
        );
        let custom = Settings {
            language: Language::Ru,
            idle_notice: false,
            privacy: PrivacyPolicy {
                record_titles: false,
                ..Default::default()
            },
            ..Default::default()
        };
        save(&config, &data, &custom).unwrap();
        assert!(!std::fs::read_to_string(&config)
            .unwrap()
            .contains("privacy"));
        // Owner-only modes on Unix; on Windows the profile's ACL does it (docs/WINDOWS.md).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(config.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o077,
                0
            );
        }
        let (mut read, notice) = load(&config);
        assert_eq!(notice, None);
        assert_eq!(load_privacy(&data, &mut read), None);
        assert_eq!(read, custom);
        assert_eq!(
            metron_agent::privacy::load(&data).policy,
            custom.privacy,
            "what metron-agent track reads"
        );
    }

    #[test]
    fn a_previous_versions_privacy_moves_to_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let (config, data) = (dir.path().join("settings.json"), dir.path().join("data"));
        std::fs::write(&config, r#"{"language":"en","privacy":{"record_titles":false,"urls":"drop","excluded_apps":["Signal"]}}"#).unwrap();
        let (mut settings, _) = load(&config);
        assert_eq!(load_privacy(&data, &mut settings), None);
        let moved = metron_agent::privacy::load(&data);
        assert!(!moved.missing);
        assert_eq!(moved.policy, settings.privacy);
        assert_eq!(moved.policy.excluded_apps, vec!["Signal".to_string()]);
    }

    #[test]
    fn a_damaged_privacy_file_records_no_titles_or_addresses_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(metron_agent::privacy::path(dir.path()), "not json").unwrap();
        let mut settings = Settings::default();
        let notice = load_privacy(dir.path(), &mut settings).unwrap();
        assert!(notice.contains("not recorded"), "{notice}");
        assert_eq!(settings.privacy, PrivacyPolicy::most_private());
    }
}
