//! Windows: input a program makes with SendInput (as a jiggler or a remote-control tool does)
//! reaches Metron's low-level hooks flagged injected, and is counted apart from hardware input.
//! Runs under Wine in the test command (.ci/windows.sh).

use metron_agent::sensors::win_hooks::HookActivity;
use metron_agent::sensors::ActivityProbe;
use metron_core::Counts;
use std::time::{Duration, Instant};
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{
    SendInput, INPUT, INPUT_0, INPUT_KEYBOARD, INPUT_MOUSE, KEYBDINPUT, KEYEVENTF_KEYUP,
    MOUSEEVENTF_MOVE, MOUSEEVENTF_WHEEL, MOUSEINPUT, VK_SHIFT,
};

fn key(flags: u32) -> INPUT {
    INPUT {
        r#type: INPUT_KEYBOARD,
        Anonymous: INPUT_0 {
            ki: KEYBDINPUT {
                wVk: VK_SHIFT,
                wScan: 0,
                dwFlags: flags,
                time: 0,
                dwExtraInfo: 0,
            },
        },
    }
}

fn mouse(dx: i32, wheel: i32, flags: u32) -> INPUT {
    INPUT {
        r#type: INPUT_MOUSE,
        Anonymous: INPUT_0 {
            mi: MOUSEINPUT {
                dx,
                dy: 0,
                mouseData: wheel as u32,
                dwFlags: flags,
                time: 0,
                dwExtraInfo: 0,
            },
        },
    }
}

#[test]
fn send_input_is_counted_as_injected() {
    let mut probe = HookActivity::start();
    // The hooks are installed on their own thread: give them a moment, and drop anything
    // counted before the test's input.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!HookActivity::failed(), "the hooks were not installed");
    probe.take();

    let inputs = [
        key(0),
        key(KEYEVENTF_KEYUP),
        mouse(5, 0, MOUSEEVENTF_MOVE),
        mouse(0, 120, MOUSEEVENTF_WHEEL),
    ];
    // SAFETY: a valid array of INPUT structures and its length and element size.
    let sent = unsafe {
        SendInput(
            inputs.len() as u32,
            inputs.as_ptr(),
            std::mem::size_of::<INPUT>() as i32,
        )
    };
    assert_eq!(sent as usize, inputs.len(), "SendInput refused the input");

    let (mut hardware, mut injected) = (Counts::default(), Counts::default());
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until
        && (injected.keys == 0 || injected.moves == 0 || injected.scrolls == 0)
    {
        std::thread::sleep(Duration::from_millis(100));
        match probe.take() {
            metron_core::Input::Split {
                hardware: h,
                injected: i,
            } => {
                hardware.add(&h);
                injected.add(&i);
            }
            other => panic!("the hooks tell origins apart, but gave {other:?}"),
        }
    }
    assert_eq!(
        injected.keys, 1,
        "one key press (the release is not a press): {injected:?}"
    );
    assert!(injected.moves >= 1, "{injected:?}");
    assert_eq!(injected.scrolls, 1, "{injected:?}");
    assert_eq!(
        hardware,
        Counts::default(),
        "nothing came from a device: {hardware:?}"
    );
}
