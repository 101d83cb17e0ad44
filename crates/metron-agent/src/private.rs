//! Files private to their owner. Metron's files hold window titles, addresses and a sign-in
//! token; on a shared machine nobody else may read them. Every binary calls [`restrict_umask`]
//! first, so whatever it creates (stores, logs, their `-wal` files) is 0600 and its folders
//! 0700; [`private_dir`] and [`narrow`] fix what an older version or another tool left wider.

use std::io::Write;
use std::path::Path;

/// Files and folders this process creates are readable by their owner only (umask 077).
pub fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` (and its parents) if needed and makes it the owner's only (0700).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Takes group and other permissions off an existing file (a store or log from a version that
/// made them 0644). A missing file is fine.
pub fn narrow(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => std::fs::set_permissions(
                path,
                std::fs::Permissions::from_mode(m.permissions().mode() & 0o700),
            )?,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a file only the user can read (0600), durably and atomically: a temporary file beside
/// it, synced, renamed over it, and the folder synced, so a crash or power cut leaves either the
/// old file or the new one, never half of one. For secrets and settings.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable only once the folder's entry is.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_dir_makes_and_narrows_folders() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b");
        private_dir(&fresh).unwrap();
        assert_eq!(mode(&fresh) & 0o077, 0);
        let loose = root.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&loose).unwrap();
        assert_eq!(mode(&loose), 0o700);
    }

    #[test]
    fn narrow_takes_away_group_and_other_and_ignores_missing_files() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("agent.sqlite");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        narrow(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        narrow(&root.path().join("missing")).unwrap();
    }

    #[test]
    fn write_private_replaces_the_whole_file_with_mode_0600() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("settings.json");
        std::fs::write(&file, b"old and longer").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(mode(&file), 0o600);
        assert!(!file.with_extension("tmp").exists());
    }
}
