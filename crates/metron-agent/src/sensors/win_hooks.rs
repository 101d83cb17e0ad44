//! Windows input by origin: Metron's own low-level keyboard and mouse hooks
//! (`WH_KEYBOARD_LL`, `WH_MOUSE_LL`), which read the `LLKHF_INJECTED` / `LLMHF_INJECTED` flag
//! Windows sets on input a program made with `SendInput` (jigglers, remote-control tools,
//! scripts) rather than a keyboard or mouse. rdev's hooks drop that flag, so Windows has its
//! own here; they count the same four kinds, and like rdev never look at which key it was.
//!
//! Hooks are called on the thread that installed them, inside its message loop, so one thread
//! owns both and pumps messages for the life of the process. Its callbacks only bump atomic
//! counters and pass the event on at once: Windows removes a hook that answers too slowly
//! (LowLevelHooksTimeout), which `last_input::CrossChecked` catches if it ever happens.

use metron_core::{Counts, Input};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;
use windows_sys::Win32::Foundation::{LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CallNextHookEx, GetMessageW, SetWindowsHookExW, HC_ACTION, KBDLLHOOKSTRUCT, LLKHF_INJECTED,
    LLMHF_INJECTED, MSG, MSLLHOOKSTRUCT, WH_KEYBOARD_LL, WH_MOUSE_LL, WM_KEYDOWN, WM_LBUTTONDOWN,
    WM_MBUTTONDOWN, WM_MOUSEHWHEEL, WM_MOUSEMOVE, WM_MOUSEWHEEL, WM_RBUTTONDOWN, WM_SYSKEYDOWN,
    WM_XBUTTONDOWN,
};

use super::ActivityProbe;

/// Counters by origin: `[hardware, injected]`, each keys, clicks, scrolls, moves.
static COUNTS: [[AtomicU64; 4]; 2] = [const { [const { AtomicU64::new(0) }; 4] }; 2];
const KEYS: usize = 0;
const CLICKS: usize = 1;
const SCROLLS: usize = 2;
const MOVES: usize = 3;
static FAILED: AtomicBool = AtomicBool::new(false);
static HOOKS: Once = Once::new();

/// Counts keyboard and mouse input of the session by origin.
pub struct HookActivity;

impl HookActivity {
    /// Installs the hooks on their own thread (once per process).
    pub fn start() -> HookActivity {
        HOOKS.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("metron-input-hooks".into())
                .spawn(run_hooks);
            if let Err(e) = spawned {
                FAILED.store(true, Ordering::Relaxed);
                tracing::warn!("could not start the input hook thread: {e}");
            }
        });
        HookActivity
    }

    /// Whether the hooks could not be installed.
    pub fn failed() -> bool {
        FAILED.load(Ordering::Relaxed)
    }
}

impl ActivityProbe for HookActivity {
    fn take(&mut self) -> Input {
        let take = |origin: usize| Counts {
            keys: COUNTS[origin][KEYS].swap(0, Ordering::Relaxed),
            clicks: COUNTS[origin][CLICKS].swap(0, Ordering::Relaxed),
            scrolls: COUNTS[origin][SCROLLS].swap(0, Ordering::Relaxed),
            moves: COUNTS[origin][MOVES].swap(0, Ordering::Relaxed),
        };
        Input::Split {
            hardware: take(0),
            injected: take(1),
        }
    }
}

fn run_hooks() {
    // SAFETY: both procedures have the HOOKPROC signature; a null module handle and thread id
    // 0 is how a low-level hook is installed for the whole session from an .exe.
    let keyboard =
        unsafe { SetWindowsHookExW(WH_KEYBOARD_LL, Some(keyboard_proc), std::ptr::null_mut(), 0) };
    // SAFETY: as above.
    let mouse =
        unsafe { SetWindowsHookExW(WH_MOUSE_LL, Some(mouse_proc), std::ptr::null_mut(), 0) };
    if keyboard.is_null() || mouse.is_null() {
        FAILED.store(true, Ordering::Relaxed);
        tracing::warn!(
            "input hooks can't be installed ({}); seconds will count as inactive",
            std::io::Error::last_os_error()
        );
        return;
    }
    // The hooks run inside this loop. It never ends: the hooks live as long as the process.
    // SAFETY: MSG is plain data, written by GetMessageW.
    let mut msg: MSG = unsafe { std::mem::zeroed() };
    // SAFETY: `msg` is a valid MSG; a null window reads every message of this thread.
    while unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } > 0 {}
}

fn count(injected: bool, kind: usize) {
    COUNTS[usize::from(injected)][kind].fetch_add(1, Ordering::Relaxed);
}

unsafe extern "system" fn keyboard_proc(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if code == HC_ACTION as i32 && matches!(wparam as u32, WM_KEYDOWN | WM_SYSKEYDOWN) {
        // SAFETY: for HC_ACTION, lparam points to the event's KBDLLHOOKSTRUCT. Only its flags
        // are read, never the key.
        let flags = unsafe { (*(lparam as *const KBDLLHOOKSTRUCT)).flags };
        count(flags & LLKHF_INJECTED != 0, KEYS);
    }
    // SAFETY: passing the event on unchanged, as every hook must.
    unsafe { CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

unsafe extern "system" fn mouse_proc(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if code == HC_ACTION as i32 {
        let kind = match wparam as u32 {
            WM_LBUTTONDOWN | WM_RBUTTONDOWN | WM_MBUTTONDOWN | WM_XBUTTONDOWN => Some(CLICKS),
            WM_MOUSEWHEEL | WM_MOUSEHWHEEL => Some(SCROLLS),
            WM_MOUSEMOVE => Some(MOVES),
            _ => None,
        };
        if let Some(kind) = kind {
            // SAFETY: for HC_ACTION, lparam points to the event's MSLLHOOKSTRUCT.
            let flags = unsafe { (*(lparam as *const MSLLHOOKSTRUCT)).flags };
            count(flags & LLMHF_INJECTED != 0, kind);
        }
    }
    // SAFETY: passing the event on unchanged.
    unsafe { CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}
