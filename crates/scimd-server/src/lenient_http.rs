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
///
/// It works a line (or a body) at a time with slice copies rather than byte by byte:
/// it sits under every request, and a test checks it against a byte-at-a-time model.
#[derive(Debug)]
struct RequestLineRewriter {
    state: Framing,
    /// The current header line, to find `Content-Length` / `Transfer-Encoding`; its
    /// buffer is reused from line to line.
    line: Vec<u8>,
    line_len: usize,
    content_length: u64,
    chunked: bool,
    /// The longest line tracked ([`MAX_TRACKED_LINE`]; smaller in tests).
    max_line: usize,
}

impl RequestLineRewriter {
    fn new() -> Self {
        Self::with_max_line(MAX_TRACKED_LINE)
    }

    fn with_max_line(max_line: usize) -> Self {
        RequestLineRewriter {
            state: Framing::RequestLine,
            line: Vec::new(),
            line_len: 0,
            content_length: 0,
            chunked: false,
            max_line,
        }
    }

    fn needs_escape(byte: u8) -> bool {
        matches!(
            byte,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
    }

    /// Appends `bytes` to `out`, percent-encoding the bytes a request target may not
    /// hold (RFC 3986 §2.1: `%` and two upper-case hex digits).
    fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        if !bytes.iter().copied().any(Self::needs_escape) {
            out.extend_from_slice(bytes);
            return;
        }
        for &byte in bytes {
            if Self::needs_escape(byte) {
                out.extend_from_slice(&[
                    b'%',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0x0f)],
                ]);
            } else {
                out.push(byte);
            }
        }
    }

    /// The length of `bytes` up to and including its first `\n`, if it has one.
    fn through_newline(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| b == b'\n').map(|at| at + 1)
    }

    /// Rewrites `input` and appends the result to `out`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        let mut rest = input;
        while !rest.is_empty() {
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
                }
                Framing::RequestLine => {
                    // At most the bytes that keep the line within the limit, plus the
                    // one that crosses it (after which the stream passes through).
                    // Never zero: every turn of this loop consumes input.
                    let room = (self.max_line + 1).saturating_sub(self.line_len).max(1);
                    let window = rest.get(..room.min(rest.len())).unwrap_or(rest);
                    let take = Self::through_newline(window).unwrap_or(window.len());
                    let (piece, after) = rest.split_at(take);
                    Self::escape_into(piece, out);
                    self.line_len += piece.len();
                    if piece.last() == Some(&b'\n') {
                        // An empty line before a request line is allowed (RFC 9112 §2.2).
                        if self.line_len > 2 {
                            self.state = Framing::Headers;
                            self.content_length = 0;
                            self.chunked = false;
                        }
                        self.line_len = 0;
                    } else if self.line_len > self.max_line {
                        self.state = Framing::PassThrough;
                    }
                    rest = after;
                }
                Framing::Headers => {
                    let room = self.max_line.saturating_sub(self.line.len());
                    // `room + 1` bytes, never zero: every turn of this loop consumes input.
                    let window = rest.get(..(room + 1).min(rest.len())).unwrap_or(rest);
                    match Self::through_newline(window) {
                        Some(take) => {
                            let (piece, after) = rest.split_at(take);
                            out.extend_from_slice(piece);
                            self.line
                                .extend_from_slice(piece.get(..take - 1).unwrap_or_default());
                            self.end_header_line();
                            rest = after;
                        }
                        None if window.len() <= room => {
                            out.extend_from_slice(window);
                            self.line.extend_from_slice(window);
                            rest = rest.get(window.len()..).unwrap_or_default();
                        }
                        None => {
                            // The byte past the limit is copied, then everything after.
                            out.extend_from_slice(window);
                            self.line
                                .extend_from_slice(window.get(..room).unwrap_or_default());
                            self.state = Framing::PassThrough;
                            rest = rest.get(window.len()..).unwrap_or_default();
                        }
                    }
                }
            }
        }
    }

    fn end_header_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        self.interpret_header_line(&line);
        // Keep the buffer for the next line.
        self.line = line;
        self.line.clear();
    }

    fn interpret_header_line(&mut self, line: &[u8]) {
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
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
            // Uninitialised: zeroing 8 KiB before every read was measurable.
            let mut raw = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
            let mut raw_buf = ReadBuf::uninit(&mut raw);
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

    /// The rewriter as first written, a byte at a time, over the same state: the model
    /// the line-at-a-time [`RequestLineRewriter::feed`] must agree with.
    struct ByteModel(RequestLineRewriter);

    impl ByteModel {
        fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
            let r = &mut self.0;
            for (at, &byte) in input.iter().enumerate() {
                match r.state {
                    Framing::PassThrough => {
                        out.extend_from_slice(&input[at..]);
                        return;
                    }
                    Framing::Body(left) => {
                        out.push(byte);
                        r.state = if left == 1 {
                            Framing::RequestLine
                        } else {
                            Framing::Body(left - 1)
                        };
                    }
                    Framing::RequestLine => {
                        if RequestLineRewriter::needs_escape(byte) {
                            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
                        } else {
                            out.push(byte);
                        }
                        r.line_len += 1;
                        if byte == b'\n' {
                            if r.line_len > 2 {
                                r.state = Framing::Headers;
                                r.content_length = 0;
                                r.chunked = false;
                            }
                            r.line_len = 0;
                        } else if r.line_len > r.max_line {
                            r.state = Framing::PassThrough;
                        }
                    }
                    Framing::Headers => {
                        out.push(byte);
                        if byte == b'\n' {
                            r.end_header_line();
                        } else if r.line.len() < r.max_line {
                            r.line.push(byte);
                        } else {
                            r.state = Framing::PassThrough;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_line_at_a_time_rewriter_agrees_with_the_byte_model() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let pieces: [&[u8]; 14] = [
            b"GET /Users?filter=userName eq \"a\" HTTP/1.1\r\n",
            b"POST /Users HTTP/1.1\r\n",
            b"Content-Length: 5\r\n",
            b"content-length:12\r\n",
            b"Content-Length: x\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"X-Long-Header: <{|}>^`\\\r\n",
            b"Host: x\r\n",
            b"\r\n",
            b"\n",
            b"{\"a\":\"\\\"\"}",
            b"\"\"\"\"\"\"\"\"\"\"",
            b"abcdefghijklmnopqrstuvwxyz",
            b":",
        ];
        let mut rng = StdRng::seed_from_u64(0x5c1d);
        for case in 0..4000 {
            let mut input = Vec::new();
            for _ in 0..rng.gen_range(1..12) {
                input.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
            }
            let max_line = [3, 8, 20, 64, MAX_TRACKED_LINE][case % 5];
            let piece = rng.gen_range(1..=input.len());
            let mut model = ByteModel(RequestLineRewriter::with_max_line(max_line));
            let mut rewriter = RequestLineRewriter::with_max_line(max_line);
            let (mut expected, mut got) = (Vec::new(), Vec::new());
            for chunk in input.chunks(piece) {
                model.feed(chunk, &mut expected);
                rewriter.feed(chunk, &mut got);
            }
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
                "case {case}: max_line {max_line}, pieces of {piece}, input {:?}",
                String::from_utf8_lossy(&input)
            );
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
