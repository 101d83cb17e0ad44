//! The HTTP listener: accepts connections up to `Limits::max_connections`, serves each as
//! HTTP/1.1 with hyper's header-read timer, a socket idle timeout and a body timeout, and on
//! shutdown lets requests in flight finish for `Limits::shutdown_grace` before cutting them.
//!
//! HTTP/1.1 only: hyper's header timer runs from the moment an HTTP/1 connection waits for a
//! request, so a client that connects and sends nothing is cut after `header_timeout`; the
//! protocol sniffing of an HTTP/1+2 server reads before any timer runs. TLS and HTTP/2 belong
//! to the reverse proxy in front (docs/DEPLOY.md).

use axum::extract::Request;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;
use tower::{Service, ServiceExt};

use crate::limits::Limits;

/// Raises this process's open-file soft limit to its hard limit, so thousands of connections
/// don't run into the common default of 1,024. Returns the new soft limit.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    #[cfg(unix)]
    {
        rlimit::increase_nofile_limit(u64::MAX)
    }
    #[cfg(not(unix))]
    {
        Ok(0)
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer, permit) = tokio::select! {
            accepted = accept(&listener, &permits) => accepted,
            () = &mut shutdown => break,
        };
        let Ok(tower_service) = make_service.call(peer).await;
        let service = TowerToHyperService::new(
            tower_service
                .map_request(|req: Request<hyper::body::Incoming>| req.map(axum::body::Body::new)),
        );
        let mut stream = TimeoutStream::new(stream);
        stream.set_read_timeout(Some(limits.idle_timeout));
        stream.set_write_timeout(Some(limits.idle_timeout));
        let connection =
            graceful.watch(builder.serve_connection(TokioIo::new(Box::pin(stream)), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
    // No new connections from here; the ones open finish their request and close.
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown: requests still in flight after {:?} were cut",
            limits.shutdown_grace
        );
    }
    Ok(())
}

/// The next connection, once a connection permit is free. Accept errors (out of file handles,
/// a connection reset before it was taken) are logged and waited out, never fatal.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                return (stream, peer, permit);
            }
            Err(e) => {
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
