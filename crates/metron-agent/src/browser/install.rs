//! Registers the native-messaging host with this user's browsers: a manifest naming this
//! executable and the one extension allowed to start it, in each browser's own place
//! (`metron-agent browser install`). Linux and macOS read manifests from folders; Windows
//! from a registry key per browser that names the manifest file. Only browsers this user has
//! used (their profile folder exists) get one; Chromium's is written regardless, the browser
//! the tests and most Linux desktops have.

use std::path::{Path, PathBuf};

use super::{CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, HOST_NAME};

/// A browser family's manifest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Chromium,
    Firefox,
}

/// The manifest of the host at `exe` for a browser family.
pub fn manifest(exe: &Path, family: Family) -> serde_json::Value {
    let mut m = serde_json::json!({
        "name": HOST_NAME,
        "description": "Metron: the tab in front, for your time tracker",
        "path": exe.display().to_string(),
        "type": "stdio",
    });
    match family {
        Family::Chromium => {
            m["allowed_origins"] =
                serde_json::json!([format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")])
        }
        Family::Firefox => m["allowed_extensions"] = serde_json::json!([FIREFOX_EXTENSION_ID]),
    }
    m
}

/// Where each browser of this user looks for host manifests (folders on Linux and macOS; on
/// Windows, where Metron keeps the files its registry keys point to), with the profile folder
/// whose presence says the browser is used.
fn places() -> Vec<(&'static str, Family, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    #[cfg(all(unix, not(target_os = "macos")))]
    if let (Some(config), Some(home)) = (dirs::config_dir(), dirs::home_dir()) {
        for (name, profile) in [
            ("Chromium", "chromium"),
            ("Google Chrome", "google-chrome"),
            ("Brave", "BraveSoftware/Brave-Browser"),
            ("Microsoft Edge", "microsoft-edge"),
            ("Vivaldi", "vivaldi"),
        ] {
            let profile = config.join(profile);
            out.push((
                name,
                Family::Chromium,
                profile.join("NativeMessagingHosts"),
                profile,
            ));
        }
        let mozilla = home.join(".mozilla");
        out.push((
            "Firefox",
            Family::Firefox,
            mozilla.join("native-messaging-hosts"),
            mozilla,
        ));
    }
    #[cfg(target_os = "macos")]
    if let Some(support) = dirs::data_dir() {
        for (name, profile) in [
            ("Chromium", "Chromium"),
            ("Google Chrome", "Google/Chrome"),
            ("Brave", "BraveSoftware/Brave-Browser"),
            ("Microsoft Edge", "Microsoft Edge"),
        ] {
            let profile = support.join(profile);
            out.push((
                name,
                Family::Chromium,
                profile.join("NativeMessagingHosts"),
                profile,
            ));
        }
        let mozilla = support.join("Mozilla");
        out.push((
            "Firefox",
            Family::Firefox,
            mozilla.join("NativeMessagingHosts"),
            mozilla,
        ));
    }
    #[cfg(windows)]
    if let Some(local) = dirs::data_local_dir() {
        // Registry keys choose the browser; the files can share one folder.
        let dir = local.join("Metron").join("browser");
        for (name, family) in [
            ("Google\\Chrome", Family::Chromium),
            ("Chromium", Family::Chromium),
            ("Microsoft\\Edge", Family::Chromium),
            ("BraveSoftware\\Brave-Browser", Family::Chromium),
            ("Mozilla", Family::Firefox),
        ] {
            let sub = if family == Family::Firefox {
                "firefox"
            } else {
                "chromium"
            };
            out.push((name, family, dir.join(sub), local.clone()));
        }
    }
    out
}

/// Writes the host's manifests for the browsers this user has; which, for the person.
pub fn install(exe: &Path) -> std::io::Result<Vec<String>> {
    let mut done = Vec::new();
    for (name, family, dir, profile) in places() {
        if !profile.exists() && name != "Chromium" {
            continue;
        }
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{HOST_NAME}.json"));
        let body = serde_json::to_vec_pretty(&manifest(exe, family)).expect("json");
        std::fs::write(&file, body)?;
        #[cfg(windows)]
        register(name, &file)?;
        done.push(format!("{name}: {}", file.display()));
    }
    Ok(done)
}

/// Removes what [`install`] wrote; which, for the person.
pub fn uninstall() -> std::io::Result<Vec<String>> {
    let mut done = Vec::new();
    for (name, _, dir, _) in places() {
        let file = dir.join(format!("{HOST_NAME}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => done.push(format!("{name}: {}", file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        #[cfg(windows)]
        unregister(name);
    }
    Ok(done)
}

/// `HKCU\Software\<browser>\NativeMessagingHosts\app.metron.browser` = the manifest's path,
/// through `reg.exe` (present on every Windows, and in Wine).
#[cfg(windows)]
fn register(browser: &str, manifest: &Path) -> std::io::Result<()> {
    let key = format!("HKCU\\Software\\{browser}\\NativeMessagingHosts\\{HOST_NAME}");
    let status = std::process::Command::new("reg")
        .args(["add", &key, "/ve", "/t", "REG_SZ", "/f", "/d"])
        .arg(manifest)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("reg add {key} failed")))
    }
}

#[cfg(windows)]
fn unregister(browser: &str) {
    let key = format!("HKCU\\Software\\{browser}\\NativeMessagingHosts\\{HOST_NAME}");
    let _ = std::process::Command::new("reg")
        .args(["delete", &key, "/f"])
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_allows_only_metrons_extension() {
        let exe = Path::new("/usr/bin/metron-agent");
        let chromium = manifest(exe, Family::Chromium);
        assert_eq!(chromium["name"], "app.metron.browser");
        assert_eq!(chromium["path"], "/usr/bin/metron-agent");
        assert_eq!(
            chromium["allowed_origins"],
            serde_json::json!(["chrome-extension://ogelpmineoinldcpeemknkfknlmghkbk/"])
        );
        assert!(chromium.get("allowed_extensions").is_none());
        let firefox = manifest(exe, Family::Firefox);
        assert_eq!(
            firefox["allowed_extensions"],
            serde_json::json!(["browser@metron.app"])
        );
    }
}
