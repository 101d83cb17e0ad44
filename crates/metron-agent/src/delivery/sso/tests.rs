//! The loopback listener over real TCP on 127.0.0.1, PKCE's shape, and the device flow's
//! polling against a tiny scripted HTTP server (the end-to-end flows against Metron's server
//! and a real OpenID provider are the server's tests).

use super::loopback::{MAX_REQUEST_BYTES, READ_TIMEOUT};
use super::*;
use crate::delivery::signin::{connect, SignInOptions};
use metron_core::wire::{DeviceAuthorization, LoginResponse};
use std::io::BufRead;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

const STATE: &str = "s-0123456789abcdef";

#[test]
fn a_pkce_verifier_is_43_random_characters_of_rfc_7636s_alphabet_and_its_challenge_is_s256() {
    let (a, b) = (Pkce::new(), Pkce::new());
    assert_ne!(a.verifier, b.verifier);
    for p in [&a, &b] {
        assert_eq!(p.verifier.len(), 43, "{:?}", p);
        assert!(p
            .verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)));
        assert_eq!(p.challenge, Pkce::challenge_of(&p.verifier));
        assert_eq!(p.challenge.len(), 43);
    }
    // RFC 7636, appendix B.
    assert_eq!(
        Pkce::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert!(
        !format!("{a:?}").contains(&a.verifier),
        "the verifier never prints"
    );
    let (s, t) = (random_state(), random_state());
    assert_ne!(s, t);
    assert_eq!(s.len(), 22, "128 bits");
}

#[test]
fn the_start_address_carries_the_flows_parameters_escaped() {
    let server = connect("https://m.example.com/metron/", &SignInOptions::default()).unwrap();
    let url =
        server
            .client
            .sso_start_url("corp idp&x", "http://127.0.0.1:5555/callback", "st", "ch");
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(parsed.path(), "/metron/api/v1/sso/start");
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("provider", "corp idp&x"),
            ("redirect_uri", "http://127.0.0.1:5555/callback"),
            ("state", "st"),
            ("code_challenge", "ch"),
            ("code_challenge_method", "S256"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn requests_are_judged_by_path_and_state_before_anything_else() {
    let get = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(
        judge(&get(&format!("/callback?code=M1&state={STATE}")), STATE),
        Callback::Code("M1".into())
    );
    assert_eq!(
        judge(
            &get(&format!(
                "/callback?error=access_denied&error_description=Your+domain+is+not+allowed&state={STATE}"
            )),
            STATE
        ),
        Callback::Refused("Your domain is not allowed".into())
    );
    assert_eq!(
        judge(
            &get(&format!("/callback?error=access_denied&state={STATE}")),
            STATE
        ),
        Callback::Refused("access_denied".into()),
        "without a description, the error's name"
    );
    for refused in [
        get("/callback?code=M1&state=other"),
        get("/callback?code=M1"),
        get("/callback?error=access_denied&state=other"),
        get(&format!("/callback?state={STATE}")),
        get(&format!("/callback?code=&state={STATE}")),
        get(&format!("/callback?code={}&state={STATE}", "x".repeat(129))),
        get(&format!("/callback?code=M1&code=M2&state={STATE}")),
        get(&format!("/callback?code=M1&state={STATE}&state=other")),
        format!("POST /callback?code=M1&state={STATE} HTTP/1.1\r\n\r\n"),
        format!("GET http://evil/callback?code=M1&state={STATE} HTTP/1.1\r\n\r\n"),
        "\u{16}\u{3}\u{1} TLS hello".into(),
        String::new(),
    ] {
        assert!(
            matches!(judge(&refused, STATE), Callback::Foreign(_)),
            "{refused:?}: {:?}",
            judge(&refused, STATE)
        );
    }
    assert_eq!(
        judge(&get("/favicon.ico"), STATE),
        Callback::NotFound,
        "a browser's side request"
    );
}

/// Sends `request` to the listener and returns its whole answer.
fn ask(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    stream.write_all(request).unwrap();
    // Said all it has to say: the listener reads to the end instead of waiting.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn port_of(listener: &Loopback) -> u16 {
    let uri = url::Url::parse(&listener.redirect_uri()).unwrap();
    assert_eq!(uri.host_str(), Some("127.0.0.1"));
    assert_eq!(uri.path(), "/callback");
    uri.port().unwrap()
}

#[test]
fn the_listener_answers_stray_requests_and_takes_the_redirect_with_its_state() {
    let listener = Loopback::bind().unwrap();
    let port = port_of(&listener);
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let cancel = AtomicBool::new(false);
        let got = listener.wait(
            STATE,
            Instant::now() + Duration::from_secs(30),
            &cancel,
            PageLanguage::English,
        );
        tx.send(got.as_ref().map(|r| r.code.clone()).map_err(Clone::clone))
            .unwrap();
        got
    });
    let stale = ask(
        port,
        b"GET /callback?code=STOLEN&state=%3Cb%3Eold%3C%2Fb%3E HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(stale.starts_with("HTTP/1.1 400 "), "{stale}");
    assert!(
        stale.contains("not the sign-in Metron is waiting for"),
        "{stale}"
    );
    let favicon = ask(port, b"GET /favicon.ico HTTP/1.1\r\n\r\n");
    assert!(favicon.starts_with("HTTP/1.1 404 "), "{favicon}");
    let junk = ask(port, &[0xff; 64]);
    assert!(junk.starts_with("HTTP/1.1 400 "), "junk: {junk}");
    // A request longer than the bound, without its end, is refused, not read on.
    let mut huge = b"GET /callback?code=".to_vec();
    huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_BYTES + 4096));
    let long = ask(port, &huge);
    assert!(
        long.starts_with("HTTP/1.1 400 "),
        "{}",
        &long[..40.min(long.len())]
    );
    assert!(
        rx.try_recv().is_err(),
        "none of these ended the wait for the real redirect"
    );

    let mut browser = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    browser
        .write_all(
            format!("GET /callback?code=M-42&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let redirect = waiter.join().unwrap().unwrap();
    assert_eq!(rx.recv().unwrap(), Ok("M-42".to_string()));
    redirect.answer(Ok(()));
    let mut page = String::new();
    browser.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("Content-Type: text/html; charset=utf-8"));
    assert!(page.contains("Content-Security-Policy: default-src 'none'"));
    assert!(
        page.contains("Signed in to Metron. You can close this tab."),
        "{page}"
    );
}

#[test]
fn a_refusal_ends_the_wait_and_the_tab_says_why_escaped_in_the_persons_language() {
    let listener = Loopback::bind().unwrap();
    let port = port_of(&listener);
    let waiter = thread::spawn(move || {
        listener.wait(
            STATE,
            Instant::now() + Duration::from_secs(30),
            &AtomicBool::new(false),
            PageLanguage::Russian,
        )
    });
    let page = ask(
        port,
        format!(
            "GET /callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E+example.org+is+not+allowed&state={STATE} HTTP/1.1\r\n\r\n"
        )
        .as_bytes(),
    );
    let got = waiter.join().unwrap().unwrap_err();
    assert_eq!(
        got,
        SsoError::Refused("<script>alert(1)</script> example.org is not allowed".into())
    );
    assert_eq!(
        AgentError::from(got).to_string(),
        "the sign-in was refused: <script>alert(1)</script> example.org is not allowed"
    );
    assert!(page.starts_with("HTTP/1.1 403 "), "{page}");
    assert!(page.contains("lang=\"ru\""), "{page}");
    assert!(page.contains("Вход в Metron отклонён: &lt;script&gt;alert(1)&lt;/script&gt; example.org is not allowed"), "{page}");
    assert!(!page.contains("<script>"), "{page}");

    // The exchange's refusal reaches the tab the same way.
    let listener = Loopback::bind().unwrap();
    let port = port_of(&listener);
    let waiter = thread::spawn(move || {
        listener.wait(
            STATE,
            Instant::now() + Duration::from_secs(30),
            &AtomicBool::new(false),
            PageLanguage::English,
        )
    });
    let mut browser = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    browser
        .write_all(format!("GET /callback?code=M&state={STATE} HTTP/1.1\r\n\r\n").as_bytes())
        .unwrap();
    waiter
        .join()
        .unwrap()
        .unwrap()
        .answer(Err("this person is disabled & signed out"));
    let mut page = String::new();
    browser.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 403 "), "{page}");
    assert!(
        page.contains("Metron&#39;s sign-in was refused: this person is disabled &amp; signed out"),
        "{page}"
    );
}

#[test]
fn the_wait_ends_at_its_deadline_or_when_cancelled_and_a_silent_connection_does_not_hold_it() {
    let listener = Loopback::bind().unwrap();
    let port = port_of(&listener);
    // Connects and says nothing: read for at most READ_TIMEOUT, then the deadline holds.
    let _silent = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    let started = Instant::now();
    let got = listener.wait(
        STATE,
        Instant::now() + Duration::from_millis(300),
        &AtomicBool::new(false),
        PageLanguage::English,
    );
    assert_eq!(got.unwrap_err(), SsoError::TimedOut);
    assert!(started.elapsed() < READ_TIMEOUT + Duration::from_secs(3));

    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&cancel);
    let waiter = thread::spawn(move || {
        listener.wait(
            STATE,
            Instant::now() + Duration::from_secs(60),
            &flag,
            PageLanguage::English,
        )
    });
    thread::sleep(Duration::from_millis(100));
    cancel.store(true, Ordering::Relaxed);
    assert_eq!(waiter.join().unwrap().unwrap_err(), SsoError::Cancelled);
}

#[test]
fn one_provider_needs_no_choice_several_do_and_an_unknown_one_is_named() {
    let p = |id: &str, name: &str| SsoProvider {
        id: id.into(),
        name: name.into(),
    };
    assert_eq!(choose_provider(&[], None), Err(SsoError::NoProvider));
    assert_eq!(choose_provider(&[], Some("x")), Err(SsoError::NoProvider));
    let one = [p("corp", "Corp Keycloak")];
    assert_eq!(choose_provider(&one, None), Ok(one[0].clone()));
    let two = [p("corp", "Corp Keycloak"), p("google", "Google")];
    let several = choose_provider(&two, None).unwrap_err();
    assert_eq!(
        several.to_string(),
        "this server offers several identity providers; choose one with --provider: corp (Corp Keycloak), google (Google)"
    );
    assert_eq!(choose_provider(&two, Some("google")), Ok(two[1].clone()));
    assert!(matches!(
        choose_provider(&two, Some("entra")),
        Err(SsoError::UnknownProvider { .. })
    ));
}

/// A scripted HTTP server for the device token endpoint: answers each request with the next
/// (status, body) and reports the paths and bodies it was sent.
fn scripted_server(script: Vec<(u16, &'static str)>) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for (status, body) in script {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header == "\r\n" {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            let _ = tx.send((path, String::from_utf8(request_body).unwrap()));
            let mut stream = reader.into_inner();
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    (base, rx)
}

const PENDING: (u16, &str) = (400, r#"{"error":"authorization_pending"}"#);
const SLOW_DOWN: (u16, &str) = (400, r#"{"error":"slow_down"}"#);
const SIGNED_IN: (u16, &str) = (
    200,
    r#"{"token":"tok-1","user":{"id":"u-1","email":"ada@example.com","name":"Ada","admin":false}}"#,
);

fn authorization(interval: u64, expires_in: u64) -> DeviceAuthorization {
    DeviceAuthorization {
        device_code: "dev-secret".into(),
        user_code: "ABCD-EFGH".into(),
        verification_uri: "https://m.example.com/device".into(),
        verification_uri_complete: "https://m.example.com/device?code=ABCD-EFGH".into(),
        expires_in,
        interval,
    }
}

/// How polling ended, the pauses it took (seconds) and the requests the server saw.
type Polled = (
    Result<LoginResponse, AgentError>,
    Vec<u64>,
    Vec<(String, String)>,
);

fn poll(script: Vec<(u16, &'static str)>, auth: DeviceAuthorization) -> Polled {
    let (base, requests) = scripted_server(script);
    let server = connect(&base, &SignInOptions::default()).unwrap();
    let mut pauses = Vec::new();
    let got = poll_device(&server, &auth, &mut |d| pauses.push(d.as_secs()));
    (got, pauses, requests.try_iter().collect())
}

#[test]
fn polling_waits_the_interval_slows_down_when_told_and_ends_with_the_token() {
    let (got, pauses, requests) = poll(
        vec![PENDING, SLOW_DOWN, PENDING, SLOW_DOWN, SIGNED_IN],
        authorization(5, 600),
    );
    let response = got.unwrap();
    assert_eq!(response.token, "tok-1");
    assert_eq!(response.user.email, "ada@example.com");
    assert_eq!(
        pauses,
        [5, 5, 10, 10, 15],
        "each slow_down adds five seconds"
    );
    assert_eq!(requests.len(), 5);
    for (path, body) in requests {
        assert_eq!(path, "/api/v1/sso/device/token");
        assert_eq!(body, r#"{"device_code":"dev-secret"}"#);
    }
}

#[test]
fn polling_stops_at_expired_token_at_its_own_expiry_and_at_a_refusal_with_its_reason() {
    let (got, pauses, _) = poll(
        vec![PENDING, (400, r#"{"error":"expired_token"}"#)],
        authorization(5, 600),
    );
    assert!(
        matches!(got, Err(AgentError::Sso(SsoError::Expired))),
        "{got:?}"
    );
    assert_eq!(pauses, [5, 5]);

    // The server never says so, yet the code's lifetime is spent: no poll after it.
    let (got, pauses, requests) = poll(vec![PENDING, PENDING, PENDING], authorization(5, 12));
    assert!(
        matches!(got, Err(AgentError::Sso(SsoError::Expired))),
        "{got:?}"
    );
    assert_eq!((pauses, requests.len()), (vec![5, 5, 5], 3));

    let (got, _, _) = poll(
        vec![
            PENDING,
            (
                403,
                r#"{"error":"example.org is not an allowed email domain"}"#,
            ),
        ],
        authorization(5, 600),
    );
    let e = got.unwrap_err();
    assert!(
        matches!(&e, AgentError::Sso(SsoError::Refused(why)) if why == "example.org is not an allowed email domain"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the sign-in was refused: example.org is not an allowed email domain"
    );
}

#[test]
fn polling_rides_out_a_failing_server_and_never_spins_on_a_zero_interval() {
    let (got, pauses, _) = poll(
        vec![
            (502, r#"{"error":"bad gateway"}"#),
            (429, r#"{"error":"busy"}"#),
            SIGNED_IN,
        ],
        authorization(0, 600),
    );
    assert_eq!(got.unwrap().token, "tok-1");
    assert_eq!(
        pauses,
        [1, 1, 1, 1],
        "at least a second between polls; a 429 without Retry-After waits one more interval"
    );
}
