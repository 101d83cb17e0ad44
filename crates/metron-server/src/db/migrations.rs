//! The schema migrations of both backends, embedded in the binary and handed to sqlx's
//! migrator. This is what sqlx's `migrate!` macro would write; the macro is not used because
//! it needs sqlx's `macros` feature, which compiles sqlx, both drivers and SQLite's C source a
//! second time (for the compiler's host) in every build, minutes of CI on two cores.
//!
//! A migration's version, description and checksum are derived exactly as sqlx derives them
//! from the directory (a test compares the two), so a database migrated by an earlier build
//! is recognised as up to date.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::SqlSafeStr;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// (file name, SQL) of each migration file in one directory.
type Files = &'static [(&'static str, &'static str)];

/// Both backends' migrations: each file name is a migration in `migrations/sqlite/` and in
/// `migrations/postgres/` (every schema change is made on both). A new file must be listed
/// here too (a test checks); a name missing from either directory is a compile error.
macro_rules! embed_both {
    ($($file:literal),* $(,)?) => {
        /// `migrations/sqlite/`.
        pub(crate) const SQLITE: Files =
            &[$(($file, include_str!(concat!("../../migrations/sqlite/", $file)))),*];
        /// `migrations/postgres/`.
        pub(crate) const POSTGRES: Files =
            &[$(($file, include_str!(concat!("../../migrations/postgres/", $file)))),*];
    };
}

embed_both!(
    "0001_init.sql",
    "0002_reports.sql",
    "0003_hardening.sql",
    "0004_client_version.sql",
    "0005_devices.sql",
    "0006_unusual.sql",
    "0007_timesheets.sql",
    "0008_timesheet_days.sql",
    "0009_own_offsets.sql",
    "0010_audit_chain.sql",
    "0011_lock_figures.sql",
    "0012_manager_sight.sql",
    "0013_invitations.sql",
    "0014_projects.sql",
    "0015_own_data.sql",
    "0016_org_settings.sql",
    "0017_second_factor.sql",
    "0018_sso.sql",
    "0019_batched_ingest.sql",
    "0020_packed_intervals.sql",
    "0021_compact_rows.sql",
    "0022_team_lines.sql",
    "0023_packed_lines.sql",
    "0024_received_index.sql",
);

/// The migrator for one backend's files.
pub(crate) async fn migrator(files: Files) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(files)).await
}

#[derive(Debug)]
struct Embedded(Files);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        let migrations = self.0.iter().map(|(file, sql)| parse(file, sql)).collect();
        Box::pin(std::future::ready(migrations))
    }
}

/// `0007_timesheets.sql` is version 7, "timesheets"; as sqlx reads a migrations directory.
fn parse(file: &str, sql: &'static str) -> Result<Migration, BoxDynError> {
    let (version, rest) = file
        .split_once('_')
        .filter(|(_, rest)| rest.ends_with(".sql"))
        .ok_or_else(|| format!("migration {file:?} is not named VERSION_DESCRIPTION.sql"))?;
    let version: i64 = version
        .parse()
        .map_err(|_| format!("migration {file:?} has no integer version"))?;
    let migration_type = MigrationType::from_filename(rest);
    let description = rest
        .trim_end_matches(migration_type.suffix())
        .replace('_', " ");
    Ok(Migration::new(
        version,
        Cow::Owned(description),
        migration_type,
        sql.into_sql_str(),
        sql.starts_with("-- no-transaction"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What sqlx reads from the directory, as `migrate!` embedded it, field by field.
    async fn same_as_the_directory(files: Files, dir: &str) {
        // The checkout under test (cargo sets this when it runs the test), not the one that
        // compiled it: the test command's build cache reuses a test for a fresh clone.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf());
        let dir = manifest.join("migrations").join(dir);
        let from_dir = Migrator::new(dir.as_path()).await.unwrap();
        let embedded = migrator(files).await.unwrap();
        let key = |m: &Migration| {
            (
                m.version,
                m.description.to_string(),
                m.migration_type,
                m.checksum.to_vec(),
                m.no_tx,
                m.sql.as_str().to_string(),
            )
        };
        let a: Vec<_> = from_dir.iter().map(key).collect();
        let b: Vec<_> = embedded.iter().map(key).collect();
        assert_eq!(a.len(), files.len(), "a file in {dir:?} is not embedded");
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn the_embedded_migrations_are_the_directories_to_the_checksum() {
        same_as_the_directory(SQLITE, "sqlite").await;
        same_as_the_directory(POSTGRES, "postgres").await;
    }

    #[test]
    fn a_badly_named_file_is_refused() {
        assert!(parse("init.sql", "").is_err());
        assert!(parse("x_init.sql", "").is_err());
        assert!(parse("0001_init.txt", "").is_err());
        let m = parse("0012_two_words.sql", "SELECT 1").unwrap();
        assert_eq!((m.version, m.description.as_ref()), (12, "two words"));
    }
}
