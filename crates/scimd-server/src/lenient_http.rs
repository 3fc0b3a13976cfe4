//! Accepting request targets that identity providers send but `http` refuses.
//!
//! Entra ID sends filters with raw double quotes in the query string
//! (`GET /Users?filter=userName+eq+"bob"`), which RFC 3986 does not allow and which the
//! `http` crate's URI parser rejects: hyper would answer a bare 400 before scimd sees
//! the request, and Entra would quarantine the provisioning job (idp-clients.md R4).
//!
//! [`LenientListener`] wraps the TCP listener; its streams percent-encode the bytes
//! `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}` inside HTTP/1 *request lines only*.
//! To know where request lines are on a keep-alive connection it follows the HTTP/1
//! message framing (RFC 9112 §6): request line, header lines, then a body of
//! `Content-Length` bytes. Bodies are never touched. A message with
//! `Transfer-Encoding` (no IdP sends chunked requests) switches the connection to
//! plain pass-through from then on, which is always safe: it only loses leniency.

use axum::serve::Listener;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The longest request line or header line we track; longer lines switch the
/// connection to pass-through (hyper then applies its own limits).
const MAX_TRACKED_LINE: usize = 64 * 1024;

/// A TCP listener whose connections accept raw quotes in request targets.
#[derive(Debug)]
pub struct LenientListener {
    inner: TcpListener,
}

impl LenientListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> Self {
        LenientListener { inner }
    }
}

impl Listener for LenientListener {
    type Io = LenientStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (LenientStream::new(stream), addr);
                }
                Err(e) => {
                    // Same policy as axum's own TcpListener: log, back off briefly
                    // (e.g. too many open files), and keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Where the reader is within the HTTP/1 byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Inside a request line: rewrite disallowed bytes.
    RequestLine,
    /// Inside the header section; `content_length` so far.
    Headers,
    /// Inside a body with this many bytes left.
    Body(u64),
    /// Gave up tracking (chunked body, or an over-long line): copy bytes as they are.
    PassThrough,
}

/// The pure byte rewriter, separate from I/O so it can be tested exhaustively.
#[derive(Debug)]
struct RequestLineRewriter {
    state: Framing,
    /// The current header line, to find `Content-Length` / `Transfer-Encoding`.
    line: Vec<u8>,
    line_len: usize,
    content_length: u64,
    chunked: bool,
}

impl RequestLineRewriter {
    fn new() -> Self {
        RequestLineRewriter {
            state: Framing::RequestLine,
            line: Vec::new(),
            line_len: 0,
            content_length: 0,
            chunked: false,
        }
    }

    fn needs_escape(byte: u8) -> bool {
        matches!(
            byte,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
    }

    /// Rewrites `input` and appends the result to `out`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        while let Some((&byte, tail)) = rest.split_first() {
            match self.state {
                Framing::PassThrough => {
                    out.extend_from_slice(rest);
                    return;
                }
                Framing::Body(left) => {
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    let (body, after) = rest.split_at(take);
                    out.extend_from_slice(body);
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        Framing::RequestLine
                    } else {
                        Framing::Body(left)
                    };
                    rest = after;
                    continue;
                }
                Framing::RequestLine => {
                    if Self::needs_escape(byte) {
                        out.extend_from_slice(format!("%{byte:02X}").as_bytes());
                    } else {
                        out.push(byte);
                    }
                    self.line_len += 1;
                    if byte == b'\n' {
                        // An empty line before a request line is allowed (RFC 9112 §2.2).
                        if self.line_len > 2 {
                            self.state = Framing::Headers;
                            self.content_length = 0;
                            self.chunked = false;
                        }
                        self.line_len = 0;
                    } else if self.line_len > MAX_TRACKED_LINE {
                        self.state = Framing::PassThrough;
                    }
                }
                Framing::Headers => {
                    out.push(byte);
                    if byte == b'\n' {
                        self.end_header_line();
                    } else if self.line.len() < MAX_TRACKED_LINE {
                        self.line.push(byte);
                    } else {
                        self.state = Framing::PassThrough;
                    }
                }
            }
            rest = tail;
        }
    }

    fn end_header_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let trimmed = line.strip_suffix(b"\r").unwrap_or(&line);
        if trimmed.is_empty() {
            self.state = if self.chunked {
                Framing::PassThrough
            } else if self.content_length > 0 {
                Framing::Body(self.content_length)
            } else {
                Framing::RequestLine
            };
            return;
        }
        let Some(colon) = trimmed.iter().position(|&b| b == b':') else {
            return;
        };
        let (name, value) = trimmed.split_at(colon);
        let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());
        if name.eq_ignore_ascii_case(b"content-length") {
            match value.trim().parse::<u64>() {
                Ok(n) => self.content_length = n,
                // hyper will refuse the request; stop interpreting the stream.
                Err(_) => self.state = Framing::PassThrough,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked = true;
        }
    }
}

/// A TCP stream whose incoming request lines are made acceptable to `http`.
#[derive(Debug)]
pub struct LenientStream {
    inner: TcpStream,
    rewriter: RequestLineRewriter,
    /// Rewritten bytes not yet handed to the reader.
    pending: Vec<u8>,
    pending_pos: usize,
}

impl LenientStream {
    fn new(inner: TcpStream) -> Self {
        LenientStream {
            inner,
            rewriter: RequestLineRewriter::new(),
            pending: Vec::new(),
            pending_pos: 0,
        }
    }
}

impl AsyncRead for LenientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some(pending) = this.pending.get(this.pending_pos..) {
                if !pending.is_empty() {
                    let n = pending.len().min(buf.remaining());
                    if let Some(chunk) = pending.get(..n) {
                        buf.put_slice(chunk);
                    }
                    this.pending_pos += n;
                    return Poll::Ready(Ok(()));
                }
            }
            this.pending.clear();
            this.pending_pos = 0;
            let mut raw = [0u8; 8192];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.inner).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) => {
                    let filled = raw_buf.filled();
                    if filled.is_empty() {
                        return Poll::Ready(Ok(())); // EOF
                    }
                    this.rewriter.feed(filled, &mut this.pending);
                }
                other => return other,
            }
        }
    }
}

impl AsyncWrite for LenientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite_in_pieces(input: &[u8], piece: usize) -> Vec<u8> {
        let mut rewriter = RequestLineRewriter::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            rewriter.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn quotes_in_request_lines_are_percent_encoded() {
        let input = b"GET /Users?filter=userName+eq+\"bob\" HTTP/1.1\r\nHost: x\r\n\r\n";
        let expected = b"GET /Users?filter=userName+eq+%22bob%22 HTTP/1.1\r\nHost: x\r\n\r\n";
        for piece in 1..=input.len() {
            assert_eq!(
                rewrite_in_pieces(input, piece),
                expected.to_vec(),
                "piece {piece}"
            );
        }
    }

    #[test]
    fn bodies_and_headers_are_untouched_across_keep_alive_requests() {
        let body = b"{\"userName\":\"a\\\"b\"}\r\n\r\nGET \"x\"";
        let mut input = Vec::new();
        input.extend_from_slice(b"POST /Users HTTP/1.1\r\nX-Quote: \"q\"\r\nContent-Length: ");
        input.extend_from_slice(body.len().to_string().as_bytes());
        input.extend_from_slice(b"\r\n\r\n");
        input.extend_from_slice(body);
        input.extend_from_slice(b"GET /Users?filter=\"a\" HTTP/1.1\r\n\r\n");

        let mut expected = input.clone();
        let tail = b"GET /Users?filter=\"a\" HTTP/1.1\r\n\r\n";
        expected.truncate(expected.len() - tail.len());
        expected.extend_from_slice(b"GET /Users?filter=%22a%22 HTTP/1.1\r\n\r\n");

        for piece in [1, 2, 3, 7, 64, input.len()] {
            assert_eq!(rewrite_in_pieces(&input, piece), expected, "piece {piece}");
        }
    }

    #[test]
    fn chunked_requests_switch_to_pass_through() {
        let input = b"POST /Bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\"abc\"\r\n0\r\n\r\nGET /\"x\" HTTP/1.1\r\n\r\n";
        let mut expected = b"POST /Bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        expected.extend_from_slice(b"5\r\n\"abc\"\r\n0\r\n\r\nGET /\"x\" HTTP/1.1\r\n\r\n");
        assert_eq!(rewrite_in_pieces(input, 5), expected);
    }
}
