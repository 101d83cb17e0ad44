//! What every Metron process does first, before it starts a thread or creates a file: its files
//! become its owner's only, and (on glibc) malloc gives large blocks back.
//!
//! Two glibc habits cost a resident process memory it never uses again. A thread that meets a
//! locked arena gets an arena of its own, up to eight per core, and each keeps what it freed;
//! two arenas are plenty for a tracker that does a little work once a second. And a large block
//! is mmapped and returned when freed only until the first one is freed: glibc then raises its
//! mmap threshold to that size, so the next one comes from an arena and stays. Local mode's
//! sign-in hashes a password with Argon2 (19 MiB, at every start): measured with heaptrack, that
//! was 20 MB of the resident process's 67 MB. A fixed threshold keeps large blocks mmapped.

/// Call at the top of `main`.
pub fn init() {
    crate::private::restrict_umask();
    tune_malloc();
}

/// glibc's tunables as above; other C libraries (and Windows' heap) have no such habits.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Blocks from this size up are mmapped, and unmapped when freed.
        const MMAP_THRESHOLD: i32 = 1 << 20;
        // SAFETY: mallopt only changes allocator tunables; called before other threads start.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            // Setting it also turns off glibc's raising of it (and of the trim threshold).
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
