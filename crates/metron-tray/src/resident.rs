//! The resident process's state and what it does on a command: the tracker service, the
//! settings, local mode, and the one window connected to it. Everything that needs the
//! desktop (tray, notifications, a window process, the main loop) goes through [`Desktop`], so
//! the commands are tested headless.

use metron_agent::clock::SystemClock;
use metron_agent::delivery::{self, account, sso, Connection, SignInOptions};
use metron_agent::paths::store_path;
use metron_agent::sensors::Sensors;
use metron_agent::store::Store;
use metron_agent::tracker_thread::MAX_NOTE_CHARS;
use metron_agent::tracker_thread::{
    AccountView, AwayAnswer, Notice, TrackerConfig, TrackerEvent, TrackerHandle, TrackerThread,
    TrackerView,
};
use metron_core::EngineConfig;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::error::AppError;
use crate::link::protocol::{Command, Message};
use crate::link::transport::Stream;
use crate::local::{self, LocalServer};
use crate::settings::{self, Settings, Speaks};

/// What the core asks of the desktop around it. The real one is [`crate::gui::GtkDesktop`];
/// tests use one that does nothing.
pub trait Desktop: Send + Sync {
    /// A new state: the tray follows it. Called on the tracker thread, so it must not wait.
    /// `can_start`: there is a task the tray's Start would start.
    fn state_changed(&self, _state: &TrackerView, _can_start: bool, _speaks: Speaks) {}
    /// A desktop notification; failing quietly where no notification daemon runs.
    fn notify(&self, _title: String, _body: String) {}
    /// Starts a window process (none is connected).
    fn open_window(&self, _data_dir: &std::path::Path) {}
    /// Ends the main loop; the caller then runs [`Resident::shutdown`].
    fn quit(&self) {}
    /// Whether a tray icon exists (without one, closing the window quits).
    fn has_tray(&self) -> bool {
        false
    }
    /// The settings changed: autostart and the tray's language follow.
    fn settings_changed(&self, _settings: &Settings, _speaks: Speaks) {}
    /// Opens an http(s) address in the person's browser.
    fn open_url(&self, _url: &str) {}
    /// Opens the identity provider's sign-in in the person's browser (`METRON_SSO_BROWSER`
    /// names another program for it: a test's client); an error ends the sign-in.
    fn open_sign_in(&self, url: &str) -> Result<(), String> {
        metron_agent::delivery::sso::open_browser(url)
    }
    /// A notification offering `actions` (id, label); `on_action` gets the id of the one
    /// chosen, if any. Where notifications have no actions, a plain one.
    fn ask(
        &self,
        title: String,
        body: String,
        _actions: Vec<(&'static str, String)>,
        _on_action: Box<dyn FnOnce(&str) + Send>,
    ) {
        self.notify(title, body);
    }
}

/// What the core runs on: real sensors and the user's dirs, or a test's.
pub struct Options {
    /// The agent's data dir (store, lock, token, socket, local server database).
    pub data_dir: PathBuf,
    /// Where settings.json lives.
    pub config_dir: PathBuf,
    pub sensors: Sensors,
    pub engine: EngineConfig,
}

/// The connected window: the writing half of its socket.
struct Window {
    conn: u64,
    writer: Arc<Mutex<Stream>>,
    /// The task list this window has: a state repeats it only when it changed.
    tasks_sent: Option<Vec<metron_core::wire::Task>>,
}

pub struct Resident {
    pub data_dir: PathBuf,
    settings_path: PathBuf,
    settings: Mutex<Settings>,
    /// Shown once by the window: e.g. "the settings file was damaged and set aside".
    startup_notice: Mutex<Option<String>>,
    service: Mutex<Option<TrackerThread>>,
    handle: Mutex<Option<TrackerHandle>>,
    latest: Mutex<Option<TrackerView>>,
    /// The task the tray's Start starts: the one tracked last, else the first of the list.
    last_task: Mutex<Option<String>>,
    local: Mutex<Option<LocalServer>>,
    window: Mutex<Option<Window>>,
    /// When a window process was last started, so a double click starts one, not two.
    window_started: Mutex<Option<std::time::Instant>>,
    closing: AtomicBool,
    /// The release version whose notification is settled (told now or before), so a state
    /// every second costs no store read.
    release_told: Mutex<Option<String>>,
    desktop: Box<dyn Desktop>,
    /// Local mode's server (axum) runs here; the rest of the core is plain threads.
    runtime: tokio::runtime::Runtime,
    /// The cancel flag of the identity-provider sign-in waiting for the browser, if any.
    sso_waiting: Mutex<Option<Arc<AtomicBool>>>,
    /// The resident's one connection to the agent's store (the tracker thread has its own):
    /// the account, the task list, notices told. A command that signs in or refreshes the
    /// tasks holds it for its network call; the tracker thread's callbacks never wait for it
    /// ([`Resident::try_store`]).
    store: Mutex<Store>,
}

/// The store's meta key for the sensors' hint last told (GNOME's extension).
const SENSOR_HINT_META: &str = "sensor_hint_told";
/// The store's meta key for the newest release a notification told of.
const RELEASE_TOLD_META: &str = "release_told";

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Serialize)]
pub struct SettingsView {
    pub settings: Settings,
    /// Shown once: e.g. the settings file was damaged and set aside.
    pub notice: Option<String>,
    /// The OS locale, for "auto".
    pub locale: String,
    /// `linux`, `windows`, `macos`: what the settings explain (macOS's permission prompts).
    pub platform: &'static str,
    /// What the sensors read (e.g. Wayland's idle notifications), as the tracker recorded it.
    pub sensors: Option<String>,
}

impl Resident {
    /// Loads the settings, starts the tracker service and, when no team server is configured,
    /// local mode. Fails (with the reason) when another tracker has the data dir (S7).
    pub fn start(options: Options, desktop: Box<dyn Desktop>) -> Result<Arc<Resident>, AppError> {
        let settings_path = options.config_dir.join("settings.json");
        metron_agent::private::private_dir(&options.data_dir).map_err(|e| {
            AppError::Local(format!(
                "cannot use the data dir {}: {e}",
                options.data_dir.display()
            ))
        })?;
        let (mut settings, settings_notice) = settings::load(&settings_path);
        let privacy_notice = settings::load_privacy(&options.data_dir, &mut settings);
        let notice = match (settings_notice, privacy_notice) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        let reset = notice.is_some();
        let mut engine = options.engine;
        engine.privacy = settings.privacy.clone();
        let store = Store::open(&store_path(&options.data_dir))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("metron-local-server")
            .enable_all()
            .build()
            .map_err(|e| AppError::Local(format!("cannot start the async runtime: {e}")))?;
        let core = Arc::new(Resident {
            data_dir: options.data_dir.clone(),
            settings_path,
            settings: Mutex::new(settings),
            startup_notice: Mutex::new(notice),
            service: Mutex::new(None),
            handle: Mutex::new(None),
            latest: Mutex::new(None),
            last_task: Mutex::new(None),
            local: Mutex::new(None),
            window: Mutex::new(None),
            window_started: Mutex::new(None),
            closing: AtomicBool::new(false),
            release_told: Mutex::new(None),
            desktop,
            runtime,
            store: Mutex::new(store),
            sso_waiting: Mutex::new(None),
        });
        if reset {
            // Said now, not only when a window opens: the app may run in the tray for days.
            let (title, body) = crate::notify::settings_reset(core.speaks());
            core.desktop.notify(title, body);
        }
        if let Some(hint) = options.sensors.sources.hint.clone() {
            core.tell_once(SENSOR_HINT_META, hint);
        }
        // Applied at every start, not only when changed: the autostart entry then names this
        // program where it is now (/usr/bin/metron-tray once a package replaced a build from
        // source, or after an upgrade moved it).
        let applied = lock(&core.settings).clone();
        if applied.autostart {
            core.desktop.settings_changed(&applied, core.speaks());
        }
        let weak: Weak<Resident> = Arc::downgrade(&core);
        let config = TrackerConfig {
            data_dir: options.data_dir,
            engine,
            sensors: options.sensors,
            clock: Box::new(SystemClock::new()),
        };
        let service = TrackerThread::start(config, move |e| {
            if let Some(core) = weak.upgrade() {
                core.on_service_event(e);
            }
        })?;
        if let Some(i) = &service.recovered {
            tracing::warn!(
                seconds = i.duration_secs(),
                "recovered the interval left open when Metron last stopped unexpectedly"
            );
        }
        *lock(&core.handle) = Some(service.handle());
        *lock(&core.service) = Some(service);
        // No team server configured (first run), or local mode chosen before: run it.
        let acct = account::account(&core.store())?;
        if acct.as_ref().is_none_or(|a| a.local) {
            if let Err(e) = core.enter_local_mode() {
                tracing::error!("local mode could not start: {e}");
            }
        }
        Ok(core)
    }

    fn handle(&self) -> Result<TrackerHandle, AppError> {
        lock(&self.handle)
            .clone()
            .ok_or_else(|| AppError::Local("the tracker is not running".into()))
    }

    /// Shows `text` in the window's banner and as a notification, unless it was told before
    /// (the store remembers the last text told under `key`).
    pub fn tell_once(&self, key: &str, text: String) {
        // The store is let go of before any other lock is taken: one lock at a time.
        let told = self.store().meta(key).ok().flatten();
        if told.as_deref() == Some(text.as_str()) {
            return;
        }
        {
            let mut notice = lock(&self.startup_notice);
            *notice = Some(match notice.take() {
                Some(earlier) => format!("{earlier} {text}"),
                None => text.clone(),
            });
        }
        self.desktop.notify("Metron".into(), text.clone());
        if let Err(e) = self.store().set_meta(key, &text) {
            tracing::warn!("cannot remember that a notice was shown: {e}");
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// The store if no command holds it now: for the tracker thread, which must not wait.
    fn try_store(&self) -> Option<std::sync::MutexGuard<'_, Store>> {
        match self.store.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The language the tray, notifications and window speak now.
    pub fn speaks(&self) -> Speaks {
        lock(&self.settings).language.speaks()
    }

    /// The latest state the tracker pushed.
    pub fn latest(&self) -> Option<TrackerView> {
        lock(&self.latest).clone()
    }

    /// Runs one command from connection `conn` (whose writing half is `writer`).
    pub fn handle_command(
        &self,
        conn: u64,
        writer: &Arc<Mutex<Stream>>,
        command: Command,
    ) -> Result<Value, AppError> {
        match command {
            Command::OpenWindow => Ok(Value::Bool(self.attach_window(conn, writer))),
            Command::ShowWindow => {
                self.show_window();
                Ok(Value::Null)
            }
            Command::GetState => {
                if let Ok(h) = self.handle() {
                    h.refresh();
                }
                Ok(json(&self.latest()))
            }
            Command::SignIn {
                server,
                email,
                password,
                insecure,
                second_factor,
            } => Ok(json(&self.sign_in(
                &server,
                &email,
                &password,
                insecure,
                second_factor,
            )?)),
            Command::SsoProviders { server } => {
                if server.trim().is_empty() {
                    return Ok(Value::Array(Vec::new()));
                }
                // The list is asked even over plain http:// to another machine: the request
                // carries no credential, and the sign-in itself still asks for the person's
                // confirmation.
                let options = SignInOptions {
                    insecure: true,
                    ..Default::default()
                };
                let server = delivery::connect(&server, &options)?;
                Ok(json(&sso::providers(&server)?))
            }
            Command::SignInSso {
                server,
                provider,
                insecure,
            } => Ok(json(&self.sign_in_sso(&server, &provider, insecure)?)),
            Command::CancelSso => {
                if let Some(waiting) = lock(&self.sso_waiting).take() {
                    waiting.store(true, Ordering::Relaxed);
                }
                Ok(Value::Null)
            }
            Command::WorkLocally => Ok(json(&self.enter_local_mode()?)),
            Command::SignOut => {
                let mut store = self.store();
                delivery::sign_out(&mut store, &self.data_dir)?;
                self.handle()?.account_changed();
                Ok(Value::Null)
            }
            Command::Start { task_id } => {
                self.handle()?.start(&task_id);
                Ok(Value::Null)
            }
            Command::Stop => {
                self.handle()?.stop();
                Ok(Value::Null)
            }
            Command::AnswerAway { answer } => {
                if let AwayAnswer::Keep { task_id, note } = &answer {
                    if task_id.trim().is_empty() {
                        return Err(AppError::Input("choose a task for the time away".into()));
                    }
                    if note.chars().count() > MAX_NOTE_CHARS {
                        return Err(AppError::Input(format!(
                            "the note is longer than {MAX_NOTE_CHARS} characters"
                        )));
                    }
                }
                self.handle()?.answer_away(answer);
                Ok(Value::Null)
            }
            Command::AddManualEntry { entry } => {
                let request = entry.request(chrono::Utc::now()).map_err(AppError::Input)?;
                self.handle()?.add_manual_entry(request);
                Ok(Value::Null)
            }
            Command::Resend { id } => {
                let id = id
                    .map(|s| {
                        uuid::Uuid::parse_str(&s)
                            .map_err(|_| AppError::Input(format!("{s} is not an interval id")))
                    })
                    .transpose()?;
                self.handle()?.resend(id);
                Ok(Value::Null)
            }
            Command::CreateTask { name, project } => {
                if name.trim().is_empty() {
                    return Err(AppError::Input("a task needs a name".into()));
                }
                let mut store = self.store();
                let task = delivery::create_task(
                    &mut store,
                    &self.data_dir,
                    &name,
                    project.as_deref().unwrap_or(""),
                )?;
                self.handle()?.account_changed();
                Ok(json(&task))
            }
            Command::RefreshTasks => {
                let mut store = self.store();
                if account::account(&store)?.is_none() {
                    return Ok(Value::Array(Vec::new()));
                }
                let tasks = delivery::refresh_tasks(&mut store, &self.data_dir)?;
                self.handle()?.refresh();
                Ok(json(&tasks))
            }
            Command::GetToday => Ok(delivery::today_report(&mut self.store(), &self.data_dir)?),
            Command::TransparencyNotice => {
                Ok(delivery::notice::notice(&mut self.store(), &self.data_dir)?)
            }
            Command::AcknowledgeNotice { version } => {
                // A version is 16 hex digits; anything else is not one the server gave.
                if version.is_empty()
                    || version.len() > 64
                    || !version.chars().all(|c| c.is_ascii_hexdigit())
                {
                    return Err(AppError::Input(format!(
                        "{version:?} is not a version of the notice"
                    )));
                }
                Ok(delivery::notice::acknowledge(
                    &mut self.store(),
                    &self.data_dir,
                    &version,
                )?)
            }
            Command::GetSettings => {
                // Each lock taken and let go of in turn, never two at once.
                let sensors = self.store().meta(metron_agent::tracker::SENSORS_META)?;
                let settings = lock(&self.settings).clone();
                let notice = lock(&self.startup_notice).take();
                Ok(json(&SettingsView {
                    settings,
                    notice,
                    locale: crate::os_locale(),
                    platform: std::env::consts::OS,
                    sensors,
                }))
            }
            Command::SetSettings { settings } => {
                self.set_settings(settings)?;
                Ok(Value::Null)
            }
            Command::OpenDownload => {
                // The release the window and the notification show (the tracker's latest
                // state), not the store read again: the store's copy is the uploader's, and
                // once, on a loaded machine, it read back empty while the state offered the
                // download (docs/DECISIONS.md, issue 25).
                let offer = self
                    .latest()
                    .and_then(|s| s.release)
                    .ok_or(AppError::NoRelease)?;
                self.desktop.open_url(&offer.download_url);
                Ok(Value::Null)
            }
            Command::Quit => {
                self.request_quit();
                Ok(Value::Null)
            }
        }
    }

    /// A newer release in the state: a notification, once per version (the store remembers
    /// the last version told, across starts). The window shows it for as long as it is newer.
    fn tell_of_release(&self, state: &TrackerView) {
        let Some(offer) = &state.release else {
            return;
        };
        let mut settled = lock(&self.release_told);
        if settled.as_deref() == Some(offer.version.as_str()) {
            return;
        }
        // Told at the next state (a second later) if a command holds the store now.
        let Some(mut store) = self.try_store() else {
            return;
        };
        if store.meta(RELEASE_TOLD_META).ok().flatten().as_deref() != Some(&offer.version) {
            let (title, body) = crate::notify::release(offer, self.speaks());
            self.desktop.notify(title, body);
            if let Err(e) = store.set_meta(RELEASE_TOLD_META, &offer.version) {
                tracing::warn!("cannot remember that a release was told of: {e}");
            }
        }
        *settled = Some(offer.version.clone());
    }

    /// Signs in to a team server. Nothing is saved when the server refuses; plain http:// to
    /// another machine needs `insecure` (the window asks the person first).
    fn sign_in(
        &self,
        server: &str,
        email: &str,
        password: &str,
        insecure: bool,
        second_factor: Option<String>,
    ) -> Result<AccountView, AppError> {
        if server.trim().is_empty() || email.trim().is_empty() || password.is_empty() {
            return Err(AppError::Input(
                "server, email and password are all needed".into(),
            ));
        }
        let mut store = self.store();
        let options = SignInOptions {
            insecure,
            second_factor: second_factor.filter(|c| !c.trim().is_empty()),
            ..Default::default()
        };
        let done = delivery::sign_in(
            &mut store,
            &self.data_dir,
            server,
            email.trim(),
            password,
            &options,
        )?;
        drop(store);
        self.signed_in_to_team(done)
    }

    /// Signs in to a team server through its identity provider `provider` in the system's
    /// browser. The store is not held while the browser is out (up to five minutes): only to
    /// read the device's id, and to save the account at the end.
    fn sign_in_sso(
        &self,
        server: &str,
        provider: &str,
        insecure: bool,
    ) -> Result<AccountView, AppError> {
        if server.trim().is_empty() || provider.trim().is_empty() {
            return Err(AppError::Input(
                "the server and the identity provider are needed".into(),
            ));
        }
        let options = SignInOptions {
            insecure,
            ..Default::default()
        };
        let connected = delivery::connect(server, &options)?;
        let device_id = self.store().device_id()?.to_string();
        let cancel = Arc::new(AtomicBool::new(false));
        // One browser sign-in at a time: a second click gives up the first one's wait.
        if let Some(earlier) = lock(&self.sso_waiting).replace(Arc::clone(&cancel)) {
            earlier.store(true, Ordering::Relaxed);
        }
        let language = match self.speaks() {
            Speaks::English => sso::PageLanguage::English,
            Speaks::Russian => sso::PageLanguage::Russian,
        };
        let flow = sso::LoopbackOptions {
            device_id: &device_id,
            language,
            timeout: sso::WAIT_FOR_BROWSER,
            cancel: &cancel,
        };
        let result = sso::sign_in_loopback(&connected, provider, &flow, &mut |url| {
            self.desktop.open_sign_in(url)
        });
        {
            let mut waiting = lock(&self.sso_waiting);
            if waiting.as_ref().is_some_and(|w| Arc::ptr_eq(w, &cancel)) {
                *waiting = None;
            }
        }
        let response = result?;
        let done = delivery::complete(&mut self.store(), &self.data_dir, &connected, response)?;
        self.signed_in_to_team(done)
    }

    /// After a sign-in to a team server (with a password or the identity provider): the
    /// tracker follows the account, the built-in server stops.
    fn signed_in_to_team(&self, done: delivery::SignedIn) -> Result<AccountView, AppError> {
        self.handle()?.account_changed();
        // Signed in to a team server: the built-in one is no longer needed.
        if let Some(mut local) = lock(&self.local).take() {
            local.stop();
        }
        Ok(AccountView {
            server: done.server,
            email: done.user.email,
            name: done.user.name,
            local: false,
        })
    }

    /// Local mode: starts the built-in server (if not running) and signs in to it.
    fn enter_local_mode(&self) -> Result<(), AppError> {
        let running = lock(&self.local).as_ref().map(|l| l.base.clone());
        let (base, account) = match running {
            Some(base) => (base, local::read_account(&self.data_dir)?),
            None => {
                let (server, account) = self.runtime.block_on(local::start(&self.data_dir))?;
                let base = server.base.clone();
                *lock(&self.local) = Some(server);
                (base, account)
            }
        };
        let mut store = self.store();
        let options = SignInOptions {
            local: true,
            ..Default::default()
        };
        delivery::sign_in(
            &mut store,
            &self.data_dir,
            &base,
            &account.email,
            &account.password,
            &options,
        )?;
        self.handle()?.account_changed();
        Ok(())
    }

    fn set_settings(&self, settings: Settings) -> Result<(), AppError> {
        settings::save(&self.settings_path, &self.data_dir, &settings).map_err(|e| {
            AppError::Local(format!(
                "cannot save the settings to {}: {e}",
                self.settings_path.display()
            ))
        })?;
        self.handle()?.set_privacy(settings.privacy.clone());
        let speaks = settings.language.speaks();
        self.desktop.settings_changed(&settings, speaks);
        *lock(&self.settings) = settings;
        if let Some(state) = self.latest() {
            self.desktop
                .state_changed(&state, self.last_task().is_some(), speaks);
        }
        Ok(())
    }

    /// The tray's Start/Stop.
    pub fn toggle(&self) {
        let Ok(handle) = self.handle() else { return };
        if self.latest().is_some_and(|s| s.tracking.is_some()) {
            handle.stop();
        } else if let Some(task) = lock(&self.last_task).clone() {
            handle.start(&task);
        }
    }

    /// The tray's Resend unsent.
    pub fn resend_all(&self) {
        if let Ok(h) = self.handle() {
            h.resend(None);
        }
    }

    /// Makes `conn` the window, unless one is connected: that one is told to come forward.
    fn attach_window(&self, conn: u64, writer: &Arc<Mutex<Stream>>) -> bool {
        let mut window = lock(&self.window);
        if let Some(w) = window.as_ref() {
            if w.conn != conn && send(&w.writer, &Message::Show) {
                return false;
            }
        }
        *window = Some(Window {
            conn,
            writer: Arc::clone(writer),
            tasks_sent: None,
        });
        true
    }

    /// Brings the window forward, or starts a window process when none is connected.
    pub fn show_window(&self) {
        if let Some(w) = lock(&self.window).as_ref() {
            if send(&w.writer, &Message::Show) {
                return;
            }
        }
        let mut started = lock(&self.window_started);
        if started.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(10)) {
            return;
        }
        *started = Some(std::time::Instant::now());
        self.desktop.open_window(&self.data_dir);
    }

    /// Connection `conn` closed. If it was the window and there is no tray to stay in, quit.
    pub fn connection_closed(&self, conn: u64) {
        let mut window = lock(&self.window);
        if window.as_ref().is_some_and(|w| w.conn == conn) {
            *window = None;
            *lock(&self.window_started) = None;
            drop(window);
            if !self.desktop.has_tray() {
                tracing::info!("the window closed and there is no tray: quitting");
                self.request_quit();
            }
        }
    }

    /// Quit (tray menu, or a window without a tray closed): the window goes, the main loop
    /// ends, and its caller runs [`Resident::shutdown`].
    pub fn request_quit(&self) {
        if self.closing.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(w) = lock(&self.window).take() {
            send(&w.writer, &Message::Quit);
        }
        // Gone from the file system now, while the data dir is still ours: a launch during the
        // shutdown then starts afresh instead of talking to a process that is ending, and no
        // later process's socket is removed by this one.
        let _ = std::fs::remove_file(crate::link::protocol::socket_path(&self.data_dir));
        self.desktop.quit();
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Stops tracking (the open interval closes as `quit`), lets delivery make a last try,
    /// then stops the local server.
    pub fn shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Some(w) = lock(&self.window).take() {
            send(&w.writer, &Message::Quit);
        }
        lock(&self.handle).take();
        if let Some(service) = lock(&self.service).take() {
            service.quit();
        }
        if let Some(mut local) = lock(&self.local).take() {
            local.stop();
        }
    }

    /// The first input after an idle or a sleep stop: the window (opened if closed) asks what
    /// to do with the time away; with no window open, a notification offers the quick
    /// answers too.
    fn person_is_back(&self, notice: Notice) {
        self.push_to_window(|| Message::Notice {
            notice: json(&notice),
        });
        let window_open = lock(&self.window).is_some();
        self.show_window();
        if window_open || self.is_closing() {
            return;
        }
        let Ok(handle) = self.handle() else {
            return;
        };
        let (title, body) = crate::notify::text(&notice, self.speaks());
        let Notice::Back { task_id, .. } = &notice else {
            return;
        };
        let task_id = task_id.clone();
        self.desktop.ask(
            title,
            body,
            crate::notify::back_actions(self.speaks()),
            Box::new(move |action| {
                let answer = match action {
                    "discard" => AwayAnswer::Discard,
                    "stop" => AwayAnswer::Stop,
                    "keep" => AwayAnswer::Keep {
                        task_id,
                        note: String::new(),
                    },
                    // Anything else (the notification itself clicked): the window decides.
                    _ => return,
                };
                handle.answer_away(answer);
            }),
        );
    }

    /// The service's callback: runs on the tracker thread.
    fn on_service_event(&self, event: TrackerEvent) {
        match event {
            TrackerEvent::State(state) => {
                if !self.is_closing() {
                    self.tell_of_release(&state);
                    self.remember_last_task(&state);
                    self.desktop
                        .state_changed(&state, self.last_task().is_some(), self.speaks());
                    self.push_state_to_window(&state);
                }
                *lock(&self.latest) = Some(*state);
            }
            TrackerEvent::Notice(notice @ Notice::Back { .. }) => self.person_is_back(notice),
            TrackerEvent::Notice(notice) => {
                self.push_to_window(|| Message::Notice {
                    notice: json(&notice),
                });
                let wants = match notice {
                    Notice::StoppedIdle | Notice::StoppedSleep => lock(&self.settings).idle_notice,
                    Notice::Rejected { .. }
                    | Notice::OtherDevice
                    | Notice::SessionExpired
                    | Notice::Back { .. } => true,
                };
                if wants {
                    let (title, body) = crate::notify::text(&notice, self.speaks());
                    self.desktop.notify(title, body);
                }
            }
        }
    }

    fn remember_last_task(&self, state: &TrackerView) {
        let mut last = lock(&self.last_task);
        let next = state
            .tracking
            .as_ref()
            .map(|t| t.task_id.clone())
            .or_else(|| last.clone())
            .or_else(|| state.recent.last().map(|b| b.task_id.clone()))
            .or_else(|| state.tasks.first().map(|t| t.id.clone()));
        *last = next;
    }

    /// The task the tray's Start would start.
    pub fn last_task(&self) -> Option<String> {
        lock(&self.last_task).clone()
    }

    /// Sends the state to the window, with the task list only when this window hasn't got it.
    fn push_state_to_window(&self, state: &TrackerView) {
        let failed = {
            let mut window = lock(&self.window);
            match window.as_mut() {
                Some(w) => {
                    let mut value = json(state);
                    if w.tasks_sent.as_ref() == Some(&state.tasks) {
                        if let Some(fields) = value.as_object_mut() {
                            fields.remove("tasks");
                        }
                    } else {
                        w.tasks_sent = Some(state.tasks.clone());
                    }
                    (!send(&w.writer, &Message::State { state: value })).then_some(w.conn)
                }
                None => None,
            }
        };
        if let Some(conn) = failed {
            self.connection_closed(conn);
        }
    }

    /// Sends to the window, if one is connected (closed to the tray, nothing is serialized).
    /// A window that can't be written to is gone: treated as closed.
    fn push_to_window(&self, message: impl FnOnce() -> Message) {
        let failed = {
            let window = lock(&self.window);
            match window.as_ref() {
                Some(w) if !send(&w.writer, &message()) => Some(w.conn),
                _ => None,
            }
        };
        if let Some(conn) = failed {
            self.connection_closed(conn);
        }
    }
}

/// Writes one message line; false when the peer is gone.
pub fn send(writer: &Mutex<Stream>, message: &Message) -> bool {
    let mut line = serde_json::to_vec(message).expect("messages serialize");
    line.push(b'\n');
    lock(writer).write_all(&line).is_ok()
}

/// Which tray icon a state calls for.
pub fn tray_state(state: &TrackerView) -> &'static str {
    if state.tracking.is_some() {
        "tracking"
    } else if state.account.is_some()
        && matches!(
            state.delivery.connection,
            Some(Connection::Offline) | Some(Connection::SignedOut)
        )
        && state.delivery.unsent > 0
    {
        "offline"
    } else {
        "idle"
    }
}

/// A reply's value.
fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}
