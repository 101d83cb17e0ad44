//! The server's requests to an identity provider (discovery, keys, the token endpoint):
//! hyper's client on rustls with the Mozilla roots, no redirect followed (a provider's answer
//! can't send the server elsewhere), a deadline on each request and a cap on each body.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use openidconnect::{HttpRequest, HttpResponse};

/// A provider's documents are kilobytes; a megabyte is someone else's.
const MAX_BODY: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// What `openidconnect` sends its requests through.
#[derive(Clone)]
pub struct ProviderHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderHttp {
    pub fn new() -> Result<Self, String> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // ring, as lettre's mail uses: rustls marks it for its lack of post-quantum key
        // exchange, which aws-lc-rs would bring with a C toolchain and minutes of build.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        // Plain http:// only reaches this machine: the settings allow it for loopback issuers.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // No pool: sign-ins are rare, and a connection kept idle is one the provider (or its
        // load balancer) may have closed by the time a POST, which is never retried, uses it.
        Ok(ProviderHttp {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let uri = request.uri().to_string();
        let (mut parts, body) = request.into_parts();
        // hyper writes the body's length itself; a second Content-Length from openidconnect
        // makes a strict server (Node's) reset the connection.
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        parts.headers.insert(
            axum::http::header::USER_AGENT,
            axum::http::HeaderValue::from_static(concat!(
                "metron-server/",
                env!("CARGO_PKG_VERSION")
            )),
        );
        let request = axum::http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError(format!("{uri}: {}", error_chain(&e))))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| HttpError(format!("{uri}: {e}")))?
                .to_bytes();
            Ok(axum::http::Response::from_parts(parts, bytes.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| HttpError(format!("{uri}: no answer within {} s", TIMEOUT.as_secs())))?
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
