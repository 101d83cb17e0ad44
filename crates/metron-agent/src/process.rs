//! What every Metron process does first, before it starts a thread or creates a file: its files
//! become its owner's only, and (on glibc) malloc keeps few arenas.
//!
//! glibc gives a thread that meets a locked arena an arena of its own, up to eight per core,
//! and each keeps its freed memory. A resident process with a dozen mostly idle threads then
//! holds tens of MB it will not use again; two arenas are plenty for a tracker that does a
//! little work once a second.

/// Call at the top of `main`.
pub fn init() {
    crate::private::restrict_umask();
    bound_malloc_arenas();
}

fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator tunable; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
