//! E6 applied by the engine to every sample.

use super::*;
use metron_core::{PrivacyPolicy, UrlPolicy};

#[test]
fn the_engine_records_only_what_the_privacy_policy_allows() {
    let privacy = PrivacyPolicy {
        record_titles: false,
        urls: UrlPolicy::HostOnly,
        excluded_apps: vec!["Signal".into()],
    };
    let mut sim = Sim::new(
        EngineConfig {
            interval_range: 4..=4,
            privacy,
            ..Default::default()
        },
        31,
    );
    sim.start("t1");
    let samples = [
        WindowInfo {
            app: "firefox".into(),
            title: "Bank - Balance".into(),
            url: Some("https://bank.example/acct/1".into()),
            path: None,
        },
        WindowInfo {
            app: "firefox".into(),
            title: "Bank - Balance".into(),
            url: Some("https://bank.example/acct/1".into()),
            path: None,
        },
        WindowInfo {
            app: "signal".into(),
            title: "Chat with Ann".into(),
            url: None,
            path: Some("/opt/Signal/signal".into()),
        },
        WindowInfo {
            app: "signal".into(),
            title: "Chat with Bob".into(),
            url: None,
            path: None,
        },
    ];
    for w in samples {
        sim.pass_ms(1000);
        let e = sim.engine.tick(
            &sim.now(),
            Sample {
                input: Counts {
                    keys: 1,
                    ..Default::default()
                }
                .into(),
                window: Some(w),
                inhibitor: None,
            },
        );
        sim.events.extend(e);
    }
    let i = &sim.intervals()[0];
    let json = serde_json::to_string(i).unwrap();
    for secret in ["Bank", "acct", "Ann", "Bob", "Signal"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
    assert_eq!(i.windows.len(), 2);
    assert_eq!(i.windows[0].url.as_deref(), Some("bank.example"));
    assert_eq!(i.windows[1].app, "excluded");
    assert_eq!(i.windows[1].seconds, 2, "excluded time still counts");
}
