//! The desktop shell's commands over the mock runtime: real IPC, real store, no display.

use metron_agent::store::Store;
use metron_core::{Counts, EndReason, Interval};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;

fn interval(start: i64, secs: i64) -> Interval {
    let t0 = chrono::DateTime::from_timestamp(1_795_000_000 + start, 0).unwrap();
    Interval {
        id: uuid::Uuid::now_v7(),
        device_id: uuid::Uuid::nil(),
        task_id: "t1".into(),
        started_at: t0,
        ended_at: t0 + chrono::Duration::seconds(secs),
        utc_offset_minutes: 0,
        end_reason: EndReason::Boundary,
        active: "1".repeat(secs as usize),
        counts: Counts::default(),
        windows: vec![],
    }
}

#[test]
fn store_summary_reports_what_the_local_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&metron_agent::paths::store_path(dir.path())).unwrap();
    store.commit(&interval(0, 60)).unwrap();
    store.commit(&interval(60, 50)).unwrap();
    store.mark_sent(&[store.intervals(false).unwrap()[0].interval.id], chrono::Utc::now()).unwrap();
    drop(store);

    let app = metron_app::configure(mock_builder(), dir.path().to_path_buf()).build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    let response = get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: "store_summary".into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            // Linux serves the app from tauri://localhost; other origins are remote and denied.
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::default(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .expect("store_summary answers");
    let summary: serde_json::Value = response.deserialize().unwrap();
    assert_eq!(summary["total"], 2);
    assert_eq!(summary["unsent"], 1);
    assert_eq!(summary["tracked_secs"], 110);
}
