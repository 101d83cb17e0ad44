//! The app's settings (U1): language, privacy (E6), the idle notice, autostart. One JSON file
//! in the app's config dir; a damaged file is set aside with a notice, never a crash.

use metron_core::PrivacyPolicy;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// "auto" (from the OS locale), "en" or "ru".
    pub language: String,
    pub privacy: PrivacyPolicy,
    /// Notify when tracking stops for idle or sleep.
    pub idle_notice: bool,
    /// Start Metron (to the tray) at login.
    pub autostart: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { language: "auto".into(), privacy: PrivacyPolicy::default(), idle_notice: true, autostart: false }
    }
}

/// Loads the settings; a file that can't be read as settings is renamed aside and the
/// defaults are used. Returns the settings and, then, a message for the person.
pub fn load(path: &Path) -> (Settings, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
        Err(e) => return (Settings::default(), Some(format!("cannot read the settings file {}: {e}; defaults are used", path.display()))),
    };
    match serde_json::from_str::<Settings>(&text) {
        Ok(s) => (s, None),
        Err(e) => {
            let aside = PathBuf::from(format!("{}.corrupt-{}", path.display(), chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
            let moved = std::fs::rename(path, &aside).is_ok();
            tracing::warn!(error = %e, "the settings file is damaged");
            let message = if moved {
                format!("The settings file was damaged ({e}). It was set aside as {} and the defaults are used.", aside.display())
            } else {
                format!("The settings file {} is damaged ({e}); the defaults are used.", path.display())
            };
            (Settings::default(), Some(message))
        }
    }
}

pub fn save(path: &Path, settings: &Settings) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(settings).expect("settings serialize"))?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_set_aside_and_defaults_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(load(&path), (Settings::default(), None));
        std::fs::write(&path, "{\"language\": \"ru\", \"idle_notice\": tru").unwrap();
        let (settings, notice) = load(&path);
        assert_eq!(settings, Settings::default());
        assert!(notice.unwrap().contains("set aside"));
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the damaged file is kept beside");
        let custom = Settings { language: "ru".into(), idle_notice: false, ..Default::default() };
        save(&path, &custom).unwrap();
        assert_eq!(load(&path), (custom, None));
    }
}
