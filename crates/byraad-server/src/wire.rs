//! The bytes of a connection, watched: what HTTP itself answers before any handler sees a request
//! is made to follow the API's rule that every error is JSON naming the problem. hyper answers a
//! request it cannot parse with a bare status (400, 414, 431, empty body) and cuts a client that
//! sends its headers too slowly without a word; here the first becomes a JSON error and the second
//! a `408` with one.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Where a connection stands between requests, shared by its stream and its service.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    /// A request was handed to the service since bytes last arrived after a response.
    dispatched: AtomicBool,
    /// Bytes of a request arrived that no handler has seen (a head still incomplete).
    partial: AtomicBool,
    /// Something was written since the last request arrived.
    wrote: AtomicBool,
    /// The server cut the connection (its head came too slowly, or it made room for another).
    cut: AtomicBool,
}

impl Exchange {
    /// A request reached the service.
    pub(crate) fn dispatched(&self) {
        self.dispatched.store(true, Ordering::Release);
        self.partial.store(false, Ordering::Release);
    }

    /// The server is cutting the connection: a request begun on it is answered 408.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::Release);
    }
}

/// A TCP stream whose exchange is watched.
pub(crate) struct Watched {
    inner: TcpStream,
    exchange: Arc<Exchange>,
    /// Bytes of our own error response still to write.
    pending: Vec<u8>,
    /// hyper's own error response was replaced: the rest of what it writes is dropped.
    replaced: bool,
}

impl Watched {
    pub(crate) fn new(inner: TcpStream, exchange: Arc<Exchange>) -> Self {
        Self { inner, exchange, pending: Vec::new(), replaced: false }
    }

    /// Writes what is pending of our own response.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }

    /// `buf` as written: hyper's own error head (no request dispatched) is replaced by a JSON
    /// error; `Some(len)` when it was.
    fn replace(&mut self, buf: &[u8]) -> Option<usize> {
        if self.replaced {
            return Some(buf.len());
        }
        let ours = !self.exchange.dispatched.load(Ordering::Acquire);
        self.exchange.wrote.store(true, Ordering::Release);
        self.exchange.partial.store(false, Ordering::Release);
        if !ours {
            return None;
        }
        let status = buf.strip_prefix(b"HTTP/1.1 ").and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok()?.parse::<u16>().ok())?;
        self.pending = error_response(status);
        self.replaced = true;
        Some(buf.len())
    }
}

/// A complete JSON error response that closes the connection.
pub(crate) fn error_response(status: u16) -> Vec<u8> {
    let (reason, code, message) = match status {
        408 => ("Request Timeout", "request_timeout", "the request's headers did not arrive in time"),
        414 => ("URI Too Long", "uri_too_long", "the request target is too long"),
        431 => ("Request Header Fields Too Large", "headers_too_large", "the request has too many or too large headers"),
        _ => ("Bad Request", "bad_request", "the request is not valid HTTP/1.1 (request line, method, target or a header)"),
    };
    let status = if matches!(status, 408 | 414 | 431) { status } else { 400 };
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    format!("HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).into_bytes()
}

impl Drop for Watched {
    /// A client that sent part of a request's head and no more is told why it is cut (408).
    fn drop(&mut self) {
        let x = &self.exchange;
        if !self.replaced && x.cut.load(Ordering::Acquire) && x.partial.load(Ordering::Acquire) {
            let _ = self.inner.try_write(&error_response(408));
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let x = &self.exchange;
            // Bytes after a response begin the next request.
            if x.wrote.swap(false, Ordering::AcqRel) {
                x.dispatched.store(false, Ordering::Release);
            }
            if !x.dispatched.load(Ordering::Acquire) {
                x.partial.store(true, Ordering::Release);
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        std::task::ready!(self.drain(cx))?;
        if let Some(n) = self.replace(buf) {
            // Written (or dropped) as ours; what is pending goes out on the next write or flush.
            let _ = self.drain(cx);
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        std::task::ready!(self.drain(cx))?;
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        if self.replace(first).is_some() {
            let _ = self.drain(cx);
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
