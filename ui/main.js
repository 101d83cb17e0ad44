// The minimal window: shows what the local store holds. Tauri's IPC is on window.__TAURI__
// (withGlobalTauri), so no bundler is needed.
const { invoke } = window.__TAURI__.core;

function hms(secs) {
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const s = await invoke("store_summary");
    document.getElementById("tracked").textContent = hms(s.tracked_secs);
    document.getElementById("total").textContent = s.total;
    document.getElementById("unsent").textContent = s.unsent;
    document.getElementById("rejected").textContent = s.rejected;
    document.getElementById("data-dir").textContent = s.data_dir;
    error.hidden = true;
  } catch (e) {
    error.textContent = e.message ?? String(e);
    error.hidden = false;
  }
}

refresh();
setInterval(refresh, 5000);
