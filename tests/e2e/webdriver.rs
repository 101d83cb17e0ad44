//! A small W3C WebDriver client (what the e2e tests need, over blocking HTTP): sessions,
//! elements by CSS, click, keys, text, screenshots.

use base64::Engine as _;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
}

impl Session {
    /// Opens a session on `application` through tauri-driver at `driver`. Session creation
    /// sometimes meets a reset while the machine is busy (STACK-NOTES): retried a few times.
    pub fn open(driver: &str, application: &str) -> Session {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let body = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        let mut last = String::new();
        for _ in 0..5 {
            match http
                .post(format!("{driver}/session"))
                .json(&body)
                .send()
                .and_then(|r| r.json::<Value>())
            {
                Ok(v) if v["value"]["sessionId"].is_string() => {
                    let id = v["value"]["sessionId"].as_str().unwrap().to_string();
                    return Session {
                        http,
                        base: format!("{driver}/session/{id}"),
                    };
                }
                Ok(v) => last = v.to_string(),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        panic!("no WebDriver session: {last}");
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req
            .send()
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        v["value"].clone()
    }

    /// The element for a CSS selector, if present.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits for an element to be present.
    pub fn wait(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(e) = self.find(css) {
                return e;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no element {css}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Clicks the element. A click WebDriver refuses (the element covered by the sticky bar
    /// or a card still growing, or not shown yet) is tried again with the element brought to
    /// the middle of the window, for up to 10 s, then fails the test: it is never ignored (a
    /// refused "Add time" once left the rest of a test typing into a hidden form).
    pub fn click(&self, css: &str) {
        let start = Instant::now();
        loop {
            let e = self.wait(css);
            let v = self.call(
                reqwest::Method::POST,
                &format!("/element/{e}/click"),
                Some(json!({})),
            );
            let Some(error) = v.get("error").and_then(Value::as_str) else {
                return;
            };
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "WebDriver refused to click {css}: {error}: {}",
                v["message"]
            );
            self.script(&format!(
                "const e = document.querySelector({}); if (e) e.scrollIntoView({{block: 'center'}}); return 0",
                json!(css)
            ));
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn text(&self, css: &str) -> String {
        let e = self.wait(css);
        self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs JavaScript in the page and returns its value.
    pub fn script(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    /// Waits until `pred(text of css)` holds; returns the text.
    pub fn wait_text(
        &self,
        css: &str,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let t = self.find(css).map(|_| self.text(css)).unwrap_or_default();
            if pred(&t) {
                return t;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; {css} says {t:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Saves a screenshot of the window as PNG.
    pub fn screenshot(&self, path: &std::path::Path) {
        let b64 = self.call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
