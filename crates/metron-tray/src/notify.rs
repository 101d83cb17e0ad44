//! Desktop notifications (U3): what they say, in the UI's language.

use metron_agent::tracker_thread::Notice;

use crate::settings::Speaks;

/// The title and body for `notice`.
pub fn text(notice: &Notice, speaks: Speaks) -> (String, String) {
    let russian = speaks == Speaks::Russian;
    let (title, body) = match (notice, russian) {
        (Notice::StoppedIdle, false) => (
            "Tracking stopped".to_string(),
            "No input for 5 minutes.".to_string(),
        ),
        (Notice::StoppedIdle, true) => (
            "Учёт остановлен".to_string(),
            "5 минут без активности.".to_string(),
        ),
        (Notice::StoppedSleep, false) => (
            "Tracking stopped".to_string(),
            "The computer slept.".to_string(),
        ),
        (Notice::StoppedSleep, true) => (
            "Учёт остановлен".to_string(),
            "Компьютер был в спящем режиме.".to_string(),
        ),
        (Notice::Rejected { count, reason }, false) => {
            (format!("{count} interval(s) rejected"), reason.clone())
        }
        (Notice::Rejected { count, reason }, true) => (
            format!("Сервер отклонил интервалов: {count}"),
            reason.clone(),
        ),
        (Notice::OtherDevice, false) => (
            "Another device is tracking".into(),
            "Another device of this account is tracking now.".into(),
        ),
        (Notice::OtherDevice, true) => (
            "Учёт идёт на другом устройстве".into(),
            "Этот аккаунт сейчас ведёт учёт на другом устройстве.".into(),
        ),
        (Notice::SessionExpired, false) => (
            "Signed out: your session expired".into(),
            "Sign in again: unsent time is kept on this computer and delivered after.".into(),
        ),
        (Notice::SessionExpired, true) => (
            "Выполнен выход: сеанс истёк".into(),
            "Войдите снова: неотправленное время хранится на этом компьютере и будет отправлено."
                .into(),
        ),
        (Notice::Back { away_secs, .. }, false) => (
            format!("Welcome back: you were away {}", span(*away_secs, false)),
            "Tracking stopped while you were away. Discard that time, keep it, or stay stopped."
                .into(),
        ),
        (Notice::Back { away_secs, .. }, true) => (
            format!("С возвращением: вас не было {}", span(*away_secs, true)),
            "Учёт остановился, пока вас не было. Не учитывать это время, учесть его или не продолжать учёт."
                .into(),
        ),
    };
    (title, body)
}

/// "1 h 5 min", "12 min", "40 s".
fn span(secs: i64, russian: bool) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    let (hours, minutes, seconds) = if russian {
        ("ч", "мин", "с")
    } else {
        ("h", "min", "s")
    };
    match (h, m) {
        (0, 0) => format!("{secs} {seconds}"),
        (0, m) => format!("{m} {minutes}"),
        (h, 0) => format!("{h} {hours}"),
        (h, m) => format!("{h} {hours} {m} {minutes}"),
    }
}

/// The quick answers a notification offers when someone comes back (the window has all).
pub fn back_actions(speaks: Speaks) -> Vec<(&'static str, String)> {
    let labels = if speaks == Speaks::Russian {
        ["Не учитывать", "Учесть как работу", "Остановить"]
    } else {
        ["Discard", "Keep as work", "Stop"]
    };
    ["discard", "keep", "stop"]
        .into_iter()
        .zip(labels.map(String::from))
        .collect()
}

/// The title and body telling of a newer release the organization announces. Metron never
/// downloads it: the window has the link.
pub fn release(offer: &metron_core::release::Offer, speaks: Speaks) -> (String, String) {
    let version = &offer.version;
    let url = &offer.download_url;
    if speaks == Speaks::Russian {
        (
            format!("Доступен Metron {version}"),
            format!("Скачайте его по адресу {url}"),
        )
    } else {
        (
            format!("Metron {version} is available"),
            format!("Download it from {url}"),
        )
    }
}

/// The title and body when a damaged or unreadable settings file was replaced by the most
/// private settings (the window shows the details).
pub fn settings_reset(speaks: Speaks) -> (String, String) {
    if speaks == Speaks::Russian {
        (
            "Настройки Metron сброшены".into(),
            "Файл настроек повреждён: заголовки окон и адреса не записываются, пока вы не проверите настройки.".into(),
        )
    } else {
        (
            "Metron's settings were reset".into(),
            "The settings file was damaged: window titles and addresses are not recorded until you review the settings.".into(),
        )
    }
}

/// A notification's body as a Linux notification daemon is given it. The Desktop Notifications
/// specification lets a body carry markup (`<b>`, `<i>`, `<u>`, `<a href>`, `<img src>`),
/// and GNOME Shell, Plasma and dunst render it. Metron's bodies are text, some of it from the
/// server (a rejection's reason, a release's address), so `&`, `<` and `>` are escaped: a
/// `<img>` or `<a>` in them is shown as written, never rendered or followed. Windows builds
/// its toast's XML through the DOM and macOS shows plain text, so they get the text as is.
pub fn markup_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Shows a notification (D-Bus on Linux, a toast on Windows, Notification Center on macOS) on
/// a thread of its own: a call to a missing daemon can take its timeout, and a notification
/// is a courtesy (the window shows the same), so a failure is only logged.
pub fn show(title: String, body: String) {
    std::thread::spawn(move || {
        if let Err(e) = post(&title, &body) {
            tracing::debug!("no notification shown: {e}");
        }
    });
}

/// Shows a notification with `actions` (id, label) and calls `on_action` with the one
/// clicked. Linux's notification daemons report the click over D-Bus, so a thread waits for
/// it; on Windows and macOS the toast is shown without buttons (the window, opened beside it,
/// asks the same).
pub fn ask(
    title: String,
    body: String,
    actions: Vec<(&'static str, String)>,
    on_action: Box<dyn FnOnce(&str) + Send>,
) {
    std::thread::spawn(move || {
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            let mut notification = notify_rust::Notification::new();
            notification
                .appname("Metron")
                .summary(&title)
                .body(&markup_escaped(&body))
                .icon("appointment-soon");
            for (id, label) in &actions {
                notification.action(id, label);
            }
            match notification.show() {
                Ok(handle) => handle.wait_for_action(|action| on_action(action)),
                Err(e) => tracing::debug!("no notification shown: {e}"),
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = (actions, on_action);
            if let Err(e) = post(&title, &body) {
                tracing::debug!("no notification shown: {e}");
            }
        }
    });
}

fn post(title: &str, body: &str) -> Result<(), String> {
    #[cfg(all(unix, not(target_os = "macos")))]
    let body = &markup_escaped(body);
    let mut notification = notify_rust::Notification::new();
    notification
        .appname("Metron")
        .summary(title)
        .body(body)
        .icon("appointment-soon");
    #[cfg(windows)]
    notification.app_id(windows_app_id());
    notification.show().map(drop).map_err(|e| e.to_string())
}

/// The AppUserModelID Metron's toasts carry (else Windows shows them as PowerShell's). An
/// unpackaged program makes its id known under HKCU\Software\Classes\AppUserModelId; done
/// once per process (the installer writes the same key, with the icon).
#[cfg(windows)]
fn windows_app_id() -> &'static str {
    const ID: &str = "dev.metron.desktop";
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        let key = winreg::RegKey::predef(winreg::enums::HKEY_CURRENT_USER)
            .create_subkey(format!(r"Software\Classes\AppUserModelId\{ID}"));
        if let Err(e) = key.and_then(|(key, _)| key.set_value("DisplayName", &"Metron")) {
            tracing::debug!("the toasts' app id is not registered: {e}");
        }
    });
    ID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_from_the_server_is_shown_as_written_never_rendered_as_markup() {
        let offer = metron_core::release::Offer {
            version: "0.3.0".into(),
            download_url: "https://example.com/get".into(),
            notes: None,
        };
        let (_, body) = release(&offer, Speaks::English);
        assert_eq!(markup_escaped(&body), body, "plain text is left alone");
        let reason = r#"invalid: <b>bold</b> <a href="https://evil.test">click</a> <img src="file:///x"> & more"#;
        let (_, body) = text(
            &Notice::Rejected {
                count: 1,
                reason: reason.into(),
            },
            Speaks::English,
        );
        let shown = markup_escaped(&body);
        assert!(!shown.contains('<') && !shown.contains('>'), "{shown}");
        assert_eq!(
            shown,
            "invalid: &lt;b&gt;bold&lt;/b&gt; &lt;a href=\"https://evil.test\"&gt;click&lt;/a&gt; \
             &lt;img src=\"file:///x\"&gt; &amp; more"
        );
    }
}
