//! The settings file: the one the packages install, and the order in which a flag, an
//! environment variable and the file decide a setting, through the real binary.

use metron_server::config::{self, CommandLine, Settings};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// packaging/server/server.toml, as the packages install it at /etc/metron/server.toml.
fn shipped_file() -> PathBuf {
    super::manifest_dir().join("../../packaging/server/server.toml")
}

#[test]
fn the_shipped_settings_file_gives_its_documented_values() {
    let shipped = config::load(Some(&shipped_file()), &CommandLine::default()).unwrap();
    assert_eq!(
        shipped,
        Settings {
            database: "/var/lib/metron/metron.sqlite".into(),
            listen: "127.0.0.1:8750".into(),
            ..Settings::default()
        }
    );
    // Every "#key = value" line shows the default: with all of them switched on, the settings
    // are the same, so a comment can't claim a default the server doesn't have.
    let text = std::fs::read_to_string(shipped_file()).unwrap();
    let switched_on: String = text
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let commented = text
        .lines()
        .filter(|l| l.starts_with('#') && l[1..].starts_with(|c: char| c.is_ascii_lowercase()))
        .count();
    assert_eq!(
        commented, 10,
        "retention, proxies and 8 limits are commented"
    );
    let dir = tempfile::tempdir().unwrap();
    let all_on = dir.path().join("server.toml");
    std::fs::write(&all_on, switched_on).unwrap();
    assert_eq!(
        config::load(Some(&all_on), &CommandLine::default()).unwrap(),
        shipped
    );
    // And every key is explained, hashing_permits (default: one per core) included.
    let defaults = serde_json::to_value(Settings::default()).unwrap();
    let keys = defaults
        .as_object()
        .unwrap()
        .keys()
        .chain(defaults["limits"].as_object().unwrap().keys())
        .filter(|k| *k != "limits")
        .map(String::as_str)
        .chain(["hashing_permits"]);
    for key in keys {
        assert!(
            text.contains(&format!("{key} =")),
            "{key} is not in the file"
        );
    }
}

/// `metron-server` with these arguments and environment, and no other METRON_ variable.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metron-server"));
    for (name, _) in std::env::vars() {
        if name.starts_with("METRON_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn settings_of(out: Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_flag_wins_over_its_environment_variable_which_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        r#"database = "file.sqlite"
listen = "127.0.0.1:9001"
retention_days = 11
trusted_proxies = ["10.0.0.0/8"]
[limits]
header_timeout = 12
body_timeout = 13
token_idle_days = 14
"#,
    )
    .unwrap();
    let file_arg = file.display().to_string();

    let only_file = settings_of(run(&["--config", &file_arg, "show-config"], &[]));
    assert_eq!(only_file["database"], "file.sqlite");
    assert_eq!(only_file["retention_days"], 11);
    assert_eq!(only_file["trusted_proxies"][0], "10.0.0.0/8");
    assert_eq!(only_file["limits"]["header_timeout"], 12);
    assert_eq!(only_file["limits"]["idle_timeout"], 60, "not in the file");

    let env = [
        ("METRON_CONFIG", file_arg.as_str()),
        ("METRON_DB", "env.sqlite"),
        ("METRON_RETENTION_DAYS", "21"),
        ("METRON_HEADER_TIMEOUT", "22"),
        ("METRON_TRUSTED_PROXIES", "192.0.2.0/24,198.51.100.0/24"),
    ];
    let with_env = settings_of(run(&["show-config"], &env));
    assert_eq!(with_env["database"], "env.sqlite");
    assert_eq!(with_env["retention_days"], 21);
    assert_eq!(with_env["limits"]["header_timeout"], 22);
    assert_eq!(
        with_env["trusted_proxies"],
        serde_json::json!(["192.0.2.0/24", "198.51.100.0/24"])
    );
    assert_eq!(with_env["limits"]["body_timeout"], 13, "the file's");
    assert_eq!(with_env["listen"], "127.0.0.1:9001", "the file's");

    let with_flags = settings_of(run(
        &[
            "--db",
            "flag.sqlite",
            "show-config",
            "--header-timeout",
            "32",
            "--listen",
            "127.0.0.1:9003",
        ],
        &env,
    ));
    assert_eq!(with_flags["database"], "flag.sqlite");
    assert_eq!(with_flags["limits"]["header_timeout"], 32);
    assert_eq!(with_flags["listen"], "127.0.0.1:9003");
    assert_eq!(with_flags["retention_days"], 21, "the variable's");
    assert_eq!(with_flags["limits"]["token_idle_days"], 14, "the file's");
    assert_eq!(with_flags["limits"]["max_connections"], 10_000, "default");
}

#[test]
fn an_unknown_key_stops_the_server_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    let db = dir.path().join("x.sqlite");
    let text = format!(
        "database = {:?}\n[limits]\nheader_timout = 5\n",
        db.display().to_string()
    );
    std::fs::write(&file, text).unwrap();
    let out = run(
        &[
            "--config",
            &file.display().to_string(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: limits.header_timout: unknown field",
            file.display()
        )),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was opened or created");
    assert!(out.stdout.is_empty(), "nothing listened");
}
