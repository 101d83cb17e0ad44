//! The transparency notice (issue 28; the UK ICO's guidance on monitoring workers): what
//! Metron collects about a person, what it never collects, who sees what and how long it is
//! kept, generated from the organization's settings of the moment (`managers_see_detail`,
//! the timesheet policy's passive-presence limit, the server's retention), never written by
//! hand. The answer is the structure (for a client that renders its own words) and the same
//! in English and Russian sentences (`text`), so the web page and the desktop app say the
//! same thing. Its `version` is a digest of the structure: a changed setting is a new version,
//! which the person has not acknowledged yet, so the app shows it again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{DbError, UserRow};
use crate::AppState;

/// What is collected, as the settings make it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Collected {
    /// Per second: whether there was any input; per interval: how many keys, clicks, scrolls
    /// and moves. Never which keys (`keystrokes` is always false).
    pub activity_counts: bool,
    pub keystrokes: bool,
    pub screenshots: bool,
    /// The app in front, second by second.
    pub apps: bool,
    /// Window titles: recorded unless the device's privacy settings turn them off (the
    /// default records them).
    pub window_titles: String,
    /// Browser addresses: `host_only_unless_changed` (the device's privacy settings decide,
    /// site only by default), or `host_only` / `none` where the organization keeps no more;
    /// query strings and fragments are never kept.
    pub urls: String,
    /// Where the title and address settings are made: `device` (each person's app).
    pub privacy_set_on: String,
    /// Window and input events for process mining (the event log).
    pub events: bool,
    /// Each device's host name, OS user, domain, OS and time zone.
    pub devices: bool,
    /// Seconds without input an idle inhibitor (a call, a video) may keep tracking going
    /// (0: passive presence is off).
    pub passive_presence_limit_secs: u32,
}

/// Who sees what.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visibility {
    /// You see everything about yourself.
    pub you: String,
    /// Admins of the organization: everything.
    pub admins: String,
    /// Your managers: `figures_and_timesheets`, or `everything` when the organization's
    /// `managers_see_detail` is on.
    pub managers: String,
    pub managers_see_detail: bool,
}

/// How long things are kept.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kept {
    /// Days raw intervals (with titles, addresses and events) are kept.
    pub raw_days: u32,
    /// After that a day is kept as its totals per task, app and site, without titles.
    pub totals_after: bool,
    /// Days the access log is kept.
    pub access_log_days: u32,
}

/// The notice's content: what its version digests.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeContent {
    pub collected: Collected,
    /// What is never collected or never shown to others, as codes: `keystrokes`,
    /// `screenshots`, `url_query_strings`, `excluded_apps`, `detail_from_managers` (when
    /// managers don't see the detail).
    pub withheld: Vec<String>,
    pub visibility: Visibility,
    pub kept: Kept,
    /// Reads of your data by someone else are recorded and shown to you.
    pub access_log: bool,
}

/// Sentences of the notice in one language.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeText {
    pub en: Vec<String>,
    pub ru: Vec<String>,
}

/// `GET /api/v1/me/notice`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notice {
    /// A digest of `content`: a changed setting makes a new version.
    pub version: String,
    /// When the person acknowledged this version (absent: not yet, or an older one).
    pub acknowledged_at: Option<chrono::DateTime<chrono::Utc>>,
    pub content: NoticeContent,
    pub text: NoticeText,
}

/// The notice of `who`'s organization as its settings stand, with their acknowledgement.
pub async fn notice(state: &AppState, who: &UserRow) -> Result<Notice, DbError> {
    let org = state
        .org_settings
        .get(state.db.as_ref(), &who.org_id)
        .await?;
    let policy = state.db.timesheet_policy(&who.org_id).await?;
    let content = content(
        org.managers_see_detail,
        policy.passive_limit_secs,
        crate::ingest::retention_days(state, &org),
        org.url_policy,
    );
    let version = version_of(&content);
    let acknowledged_at = state
        .db
        .notice_ack(&who.user.id)
        .await?
        .filter(|(v, _)| *v == version)
        .and_then(|(_, at)| chrono::DateTime::from_timestamp(at, 0));
    let text = text(&content);
    Ok(Notice {
        version,
        acknowledged_at,
        content,
        text,
    })
}

/// What the settings make of the notice.
pub fn content(
    managers_see_detail: bool,
    passive_limit_secs: u32,
    days: u32,
    urls: metron_core::UrlPolicy,
) -> NoticeContent {
    let mut withheld: Vec<String> = ["keystrokes", "screenshots", "url_query_strings"]
        .map(String::from)
        .into();
    withheld.push("excluded_apps".into());
    if !managers_see_detail {
        withheld.push("detail_from_managers".into());
    }
    NoticeContent {
        collected: Collected {
            activity_counts: true,
            keystrokes: false,
            screenshots: false,
            apps: true,
            window_titles: "recorded_unless_turned_off".into(),
            // The organization's policy is applied to what is stored, whatever a device sends.
            urls: match urls {
                metron_core::UrlPolicy::Full => "host_only_unless_changed",
                metron_core::UrlPolicy::HostOnly => "host_only",
                metron_core::UrlPolicy::Drop => "none",
            }
            .into(),
            privacy_set_on: "device".into(),
            events: true,
            devices: true,
            passive_presence_limit_secs: passive_limit_secs,
        },
        withheld,
        visibility: Visibility {
            you: "everything".into(),
            admins: "everything".into(),
            managers: if managers_see_detail {
                "everything".into()
            } else {
                "figures_and_timesheets".into()
            },
            managers_see_detail,
        },
        kept: Kept {
            raw_days: days,
            totals_after: true,
            access_log_days: days,
        },
        access_log: true,
    }
}

fn version_of(content: &NoticeContent) -> String {
    let json = serde_json::to_string(content).expect("the notice serializes");
    hex::encode(&Sha256::digest(json.as_bytes())[..8])
}

/// The notice in sentences, English and Russian, from its content alone.
pub fn text(c: &NoticeContent) -> NoticeText {
    let mins = c.collected.passive_presence_limit_secs / 60;
    let days = c.kept.raw_days;
    let mut en = vec![
        "Metron records which task you track time on, which app is in front second by second, \
         and how many keys, clicks, scrolls and mouse moves each stretch had. It never records \
         which keys you press, and it takes no screenshots."
            .to_string(),
        format!(
            "Window titles are recorded unless you turn them off in the app's privacy settings; \
             {} Query strings and fragments are never kept, and apps you exclude are recorded \
             only as \"excluded\".",
            match c.collected.urls.as_str() {
                "host_only" =>
                    "of web addresses only the site is kept (your organization's setting).",
                "none" => "web addresses are not kept at all (your organization's setting).",
                _ => "of web addresses only the site is kept unless you choose otherwise there.",
            }
        ),
        if mins > 0 {
            format!(
                "A call or a video that keeps your screen awake counts as presence for up to \
                 {mins} minutes without input."
            )
        } else {
            "Time without input never counts as presence.".to_string()
        },
        "Your devices report their host name, user name, domain, operating system and time \
         zone."
            .to_string(),
        if c.visibility.managers_see_detail {
            "You and your organization's admins see everything recorded about you; your \
             managers do too, including window titles, addresses, the event log and devices."
                .to_string()
        } else {
            "You and your organization's admins see everything recorded about you; your \
             managers see your figures and timesheets, not window titles, addresses, the event \
             log or devices."
                .to_string()
        },
        format!(
            "Detailed records are kept {days} days; after that a day is kept as totals per \
             task, app and site, without window titles."
        ),
        format!(
            "Every time a manager or an admin reads your day, timesheet, events or export, it \
             is recorded, and you see it under \"My data\" (kept {} days). There you can also \
             download everything recorded about you.",
            c.kept.access_log_days
        ),
    ];
    let mut ru = vec![
        "Metron записывает, на какую задачу вы учитываете время, какое приложение на переднем \
         плане посекундно и сколько было нажатий клавиш, щелчков, прокруток и движений мыши. \
         Какие именно клавиши вы нажимаете, не записывается никогда; снимков экрана нет."
            .to_string(),
        format!(
            "Заголовки окон записываются, если вы не отключили их в настройках приватности \
             приложения; {} Параметры запроса и фрагменты адресов не хранятся никогда, а \
             исключённые приложения записываются только как «excluded».",
            match c.collected.urls.as_str() {
                "host_only" => "из веб-адресов хранится только сайт (так решила организация).",
                "none" => "веб-адреса не хранятся совсем (так решила организация).",
                _ => "из веб-адресов хранится только сайт, если вы не выбрали иное.",
            }
        ),
        if mins > 0 {
            format!(
                "Звонок или видео, не дающие экрану погаснуть, считаются присутствием до \
                 {mins} минут без ввода."
            )
        } else {
            "Время без ввода никогда не считается присутствием.".to_string()
        },
        "Ваши устройства сообщают имя компьютера, имя пользователя, домен, операционную систему \
         и часовой пояс."
            .to_string(),
        if c.visibility.managers_see_detail {
            "Вы и администраторы организации видите всё, что о вас записано; ваши руководители \
             тоже, включая заголовки окон, адреса, журнал событий и устройства."
                .to_string()
        } else {
            "Вы и администраторы организации видите всё, что о вас записано; ваши руководители \
             видят показатели и табели, но не заголовки окон, адреса, журнал событий и \
             устройства."
                .to_string()
        },
        format!(
            "Подробные записи хранятся {days} дн.; после этого день хранится как итоги по \
             задачам, приложениям и сайтам, без заголовков окон."
        ),
        format!(
            "Каждый раз, когда руководитель или администратор открывает ваш день, табель, \
             события или выгрузку, это записывается, и вы видите это в разделе «Мои данные» \
             (хранится {} дн.). Там же можно скачать всё, что о вас записано.",
            c.kept.access_log_days
        ),
    ];
    debug_assert_eq!(en.len(), ru.len());
    en.shrink_to_fit();
    ru.shrink_to_fit();
    NoticeText { en, ru }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_follows_the_settings() {
        let off = content(false, 7200, 400, metron_core::UrlPolicy::Full);
        let on = content(true, 7200, 400, metron_core::UrlPolicy::Full);
        assert_ne!(version_of(&off), version_of(&on));
        assert!(off.withheld.contains(&"detail_from_managers".to_string()));
        assert!(!on.withheld.contains(&"detail_from_managers".to_string()));
        assert!(text(&off).en[4].contains("not window titles"));
        assert!(
            text(&content(false, 0, 30, metron_core::UrlPolicy::Full)).en[2]
                .contains("never counts")
        );
        let dropped = content(false, 0, 30, metron_core::UrlPolicy::Drop);
        assert_eq!(dropped.collected.urls, "none");
        assert!(text(&dropped).en[1].contains("not kept at all"));
        assert!(text(&dropped).ru[1].contains("не хранятся совсем"));
        assert!(
            text(&content(false, 0, 30, metron_core::UrlPolicy::Full)).ru[5].contains("30 дн.")
        );
    }
}
