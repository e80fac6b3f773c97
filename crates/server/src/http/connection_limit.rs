//! A cap on the client connections open at once.
//!
//! Shedding requests ([`crate::router`]) bounds the work in progress, not the connections: each
//! costs a file descriptor whether or not a request is in flight on it, and a server past its
//! open-file limit fails in ways no client can act on (SQLite answering "unable to open database
//! file", new connections refused). Past `max_client_connections` a new connection is closed as
//! soon as it is accepted, before any byte is read, and counted in a warning at most once a
//! second; the connections already open are served as before. At start-up the process raises its
//! open-file limit to fit the cap (see [`raise_open_file_limit`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::support::throttle::Throttle;

/// File descriptors kept beside the client connections: database files and connections, the
/// listener, logs, certificates.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// An acceptor that admits at most `limit` connections at once, then hands each to `inner`
/// (TCP_NODELAY, TLS).
#[derive(Debug, Clone)]
pub struct ConnectionLimit<A> {
    inner: A,
    permits: Arc<Semaphore>,
    limit: usize,
    refused: Arc<Throttle>,
}

impl<A> ConnectionLimit<A> {
    pub fn new(inner: A, limit: usize) -> ConnectionLimit<A> {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        ConnectionLimit {
            inner,
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            refused: Arc::new(Throttle::default()),
        }
    }
}

impl<A, I, S> Accept<I, S> for ConnectionLimit<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Counted<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            if let Some(refused) = self.refused.count() {
                tracing::warn!(
                    limit = self.limit,
                    refused_so_far = refused,
                    "connections refused: max_client_connections are open already"
                );
            }
            // Dropping the stream closes the connection (axum-server drops it on an error).
            drop(stream);
            return Box::pin(std::future::ready(Err(io::Error::other(
                "max_client_connections reached",
            ))));
        };
        let accepted = self.inner.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            Ok((
                Counted {
                    stream,
                    _permit: permit,
                },
                service,
            ))
        })
    }
}

/// A connection that gives its place back when it closes (when it is dropped).
#[derive(Debug)]
pub struct Counted<S> {
    stream: S,
    _permit: OwnedSemaphorePermit,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Raises the process's soft open-file limit so that `connections` client connections fit
/// beside [`RESERVED_DESCRIPTORS`] (never above the hard limit, never lowering it). Returns the
/// number of client connections that fit afterwards, which the caller uses as the cap if it is
/// below the configured one.
pub fn raise_open_file_limit(connections: usize) -> io::Result<usize> {
    let wanted = (connections as u64).saturating_add(RESERVED_DESCRIPTORS);
    let limit = rlimit::increase_nofile_limit(wanted)?;
    Ok(usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX))
}
