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
    };
    (title, body)
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

/// Shows a notification through the desktop's notification daemon (D-Bus), on a thread of
/// its own: a call to a missing daemon can take its timeout, and a notification is a
/// courtesy (the window shows the same), so a failure is only logged.
pub fn show(title: String, body: String) {
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Metron")
            .summary(&title)
            .body(&body)
            .icon("appointment-soon")
            .show();
        if let Err(e) = shown {
            tracing::debug!("no notification shown: {e}");
        }
    });
}
