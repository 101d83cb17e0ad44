//! A fault-injecting HTTP proxy for the delivery tests: it sits on 127.0.0.1 between a real
//! `metron-agent` and a real `metron-server` and, per request, passes it through or breaks it
//! in one of the ways networks and servers break.
//!
//! It speaks just enough HTTP/1.1: one request per connection (it asks the server to close
//! after answering, and so the agent never reuses a connection), Content-Length bodies (what
//! reqwest sends for JSON). Every request is logged with the fault applied and, for interval
//! batches, the ids it carried, so tests can count sends per interval.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Forward the request and relay the answer.
    Pass,
    /// Reset the connection as soon as it is accepted.
    Refuse,
    /// Read half of the request, then reset.
    ResetMidRequest,
    /// Wait, then forward normally.
    Delay(Duration),
    /// Answer this status without forwarding (JSON error body), with an optional Retry-After.
    Status(u16, Option<u64>),
    /// Forward, let the server commit and answer, then reset instead of relaying the answer.
    DropAfterCommit,
    /// Forward the request headers and half the body, wait this long (the test kills the
    /// server meanwhile), then send the rest.
    StallMidBody(Duration),
    /// 200 with an HTML page.
    Garbage,
    /// 200 with the server's real JSON, labelled text/plain.
    WrongContentType,
    /// 200 application/json whose body is cut short.
    Truncated,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub method: String,
    pub path: String,
    pub fault: Fault,
    /// The server's status line code, when the request reached it and it answered.
    pub upstream_status: Option<u16>,
    /// For `POST /api/v1/intervals`: the interval ids in the body.
    pub ids: Vec<String>,
}

#[derive(Default)]
struct Plan {
    /// Faults for the next interval batches (`POST /api/v1/intervals`), in order.
    batches: VecDeque<Fault>,
    /// What every other request (and batches once the queue is empty) gets.
    default: Option<Fault>,
}

#[derive(Clone)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    upstream: Arc<Mutex<SocketAddr>>,
    plan: Arc<Mutex<Plan>>,
    log: Arc<Mutex<Vec<Record>>>,
    /// Interval batches read so far (counted before the fault is applied).
    batches_read: Arc<Mutex<usize>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = FaultProxy {
            addr: listener.local_addr().unwrap(),
            upstream: Arc::new(Mutex::new(upstream)),
            plan: Arc::default(),
            log: Arc::default(),
            batches_read: Arc::default(),
        };
        let p = proxy.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let p = p.clone();
                std::thread::spawn(move || p.handle(conn));
            }
        });
        proxy
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Points the proxy at a (restarted) server.
    pub fn set_upstream(&self, addr: SocketAddr) {
        *self.upstream.lock().unwrap() = addr;
    }

    /// The next interval batches get these faults, one each, in order.
    pub fn queue_batches(&self, faults: impl IntoIterator<Item = Fault>) {
        self.plan.lock().unwrap().batches.extend(faults);
    }

    /// Every request not covered by the batch queue gets this (None: pass).
    pub fn set_default(&self, fault: Option<Fault>) {
        self.plan.lock().unwrap().default = fault;
    }

    /// How many interval batches have arrived, including ones still being handled.
    pub fn batches_read(&self) -> usize {
        *self.batches_read.lock().unwrap()
    }

    pub fn log(&self) -> Vec<Record> {
        self.log.lock().unwrap().clone()
    }

    /// The logged interval batches.
    pub fn batches(&self) -> Vec<Record> {
        self.log()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v1/intervals")
            .collect()
    }

    fn handle(&self, mut client: TcpStream) {
        // A server that refuses everything resets connections before reading a byte.
        if self.plan.lock().unwrap().default == Some(Fault::Refuse) {
            let record = Record {
                method: "?".into(),
                path: "?".into(),
                fault: Fault::Refuse,
                upstream_status: None,
                ids: Vec::new(),
            };
            self.log.lock().unwrap().push(record);
            return reset(client);
        }
        let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
        let Some((head, body)) = read_request(&mut client) else {
            return;
        };
        let first = head.lines().next().unwrap_or_default().to_string();
        let mut parts = first.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let is_batch = method == "POST" && path == "/api/v1/intervals";
        if is_batch {
            *self.batches_read.lock().unwrap() += 1;
        }
        let fault = {
            let mut plan = self.plan.lock().unwrap();
            let queued = if is_batch {
                plan.batches.pop_front()
            } else {
                None
            };
            queued
                .or_else(|| plan.default.clone())
                .unwrap_or(Fault::Pass)
        };
        let ids = if is_batch {
            batch_ids(&body)
        } else {
            Vec::new()
        };
        let mut record = Record {
            method,
            path,
            fault: fault.clone(),
            upstream_status: None,
            ids,
        };
        let upstream = *self.upstream.lock().unwrap();
        let request = with_connection_close(&head, &body);
        match fault {
            Fault::Refuse => reset(client),
            Fault::ResetMidRequest => reset(client),
            Fault::Status(code, retry_after) => {
                let extra = retry_after
                    .map(|s| format!("Retry-After: {s}\r\n"))
                    .unwrap_or_default();
                let body = format!("{{\"error\":\"injected {code}\"}}");
                let _ = write!(
                    client,
                    "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            Fault::Garbage => {
                let body = "<html><body>502 Bad Gateway, or a captive portal</body></html>";
                let _ = write!(
                    client,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            Fault::StallMidBody(stall) => match TcpStream::connect(upstream) {
                Ok(mut server) => {
                    let half = request.len() - body.len() / 2;
                    let _ = server.write_all(&request[..half]);
                    std::thread::sleep(stall);
                    let sent = server.write_all(&request[half..]).is_ok();
                    let mut answer = Vec::new();
                    if sent && server.read_to_end(&mut answer).is_ok() && !answer.is_empty() {
                        record.upstream_status = status_of(&answer);
                        let _ = client.write_all(&answer);
                    } else {
                        reset(client);
                    }
                }
                Err(_) => reset(client),
            },
            Fault::Pass
            | Fault::Delay(_)
            | Fault::DropAfterCommit
            | Fault::WrongContentType
            | Fault::Truncated => {
                if let Fault::Delay(d) = fault {
                    std::thread::sleep(d);
                }
                let answer = TcpStream::connect(upstream).ok().and_then(|mut server| {
                    server.write_all(&request).ok()?;
                    let mut answer = Vec::new();
                    server.read_to_end(&mut answer).ok()?;
                    (!answer.is_empty()).then_some(answer)
                });
                match answer {
                    // The server is down or died mid-answer: the agent sees a reset.
                    None => reset(client),
                    Some(answer) => {
                        record.upstream_status = status_of(&answer);
                        match fault {
                            Fault::DropAfterCommit => reset(client),
                            Fault::WrongContentType => {
                                let text = String::from_utf8_lossy(&answer).replacen(
                                    "application/json",
                                    "text/plain",
                                    1,
                                );
                                let _ = client.write_all(text.as_bytes());
                            }
                            Fault::Truncated => {
                                let cut = split_head(&answer)
                                    .map(|(h, b)| h + b.len().min(12))
                                    .unwrap_or(answer.len());
                                let _ = client.write_all(&answer[..cut]);
                                let _ = client.shutdown(Shutdown::Both);
                            }
                            _ => {
                                let _ = client.write_all(&answer);
                            }
                        }
                    }
                }
            }
        }
        self.log.lock().unwrap().push(record);
    }
}

/// Reads one request: the head (up to the blank line) and a Content-Length body. For
/// `ResetMidRequest` the caller resets after this, which the client sees mid-exchange.
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some((h, _)) = split_head(&buf) {
            break h;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().to_string())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[head_end..head_end + length].to_vec()))
}

/// Where the head ends (after the blank line) and the rest.
fn split_head(buf: &[u8]) -> Option<(usize, &[u8])> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p + 4, &buf[p + 4..]))
}

/// The request with its Connection header replaced by `close`.
fn with_connection_close(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in head.trim_end().lines() {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn status_of(answer: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(&answer[..answer.len().min(32)])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn batch_ids(body: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["intervals"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Closes with a TCP reset (SO_LINGER 0) rather than a clean FIN.
fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}
