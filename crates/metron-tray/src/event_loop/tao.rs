//! The event loop on Windows (and macOS): tao's, the one Tauri uses. On Windows it is a Win32
//! message loop, which tray-icon's Win32 backend needs on the thread that made the icon; on
//! macOS it is the application's run loop. Work from other threads arrives as user events.

use std::cell::RefCell;
use std::sync::{Mutex, OnceLock};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoop, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;

/// What other threads ask of the loop.
enum Job {
    Run(Box<dyn FnOnce() + Send>),
    Quit,
}

thread_local! {
    /// Made by [`init`] on the main thread, taken by [`run`].
    static LOOP: RefCell<Option<EventLoop<Job>>> = const { RefCell::new(None) };
}

static PROXY: OnceLock<Mutex<EventLoopProxy<Job>>> = OnceLock::new();

/// Makes the event loop on this (the main) thread.
pub fn init() -> Result<(), String> {
    let event_loop = EventLoopBuilder::<Job>::with_user_event().build();
    PROXY
        .set(Mutex::new(event_loop.create_proxy()))
        .map_err(|_| "the event loop was made twice".to_string())?;
    LOOP.with(|l| *l.borrow_mut() = Some(event_loop));
    Ok(())
}

fn send(job: Job) {
    if let Some(proxy) = PROXY.get() {
        let proxy = proxy.lock().unwrap_or_else(|e| e.into_inner());
        // Fails only once the loop has ended, when nothing is left to do.
        let _ = proxy.send_event(job);
    }
}

/// Runs `job` on the main loop's next turn (from any thread).
pub fn post(job: impl FnOnce() + Send + 'static) {
    send(Job::Run(Box::new(job)));
}

/// Ends [`run`] (from any thread).
pub fn quit() {
    send(Job::Quit);
}

/// Windows ends a GUI program at logoff without a signal; what is at stake is the open
/// interval, which the tracker checkpoints (see docs/WINDOWS.md). On macOS, SIGTERM and
/// SIGINT end it cleanly.
pub fn on_termination(handler: impl Fn() + Send + Sync + 'static) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    for _ in signals.forever() {
                        handler();
                    }
                });
            }
            Err(e) => tracing::warn!("no signal handler: {e}"),
        }
    }
    #[cfg(not(unix))]
    drop(handler);
}

/// Runs the loop until [`quit`].
pub fn run() {
    let Some(mut event_loop) = LOOP.with(|l| l.borrow_mut().take()) else {
        return;
    };
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(Job::Run(job)) => job(),
            Event::UserEvent(Job::Quit) => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    });
}
