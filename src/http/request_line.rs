//! Raw UTF-8 in a request line, as curl sends `GET /api/v1/tasks?q=厕所`:
//! percent-encoded on the way in, so that the request works.
//!
//! A request target may only hold ASCII (RFC 9112 §3.2); browsers
//! percent-encode the rest, but curl and scripts often do not. actix-http
//! refuses such a request line while parsing, before any handler or
//! middleware runs, and answers a bare 400 with an empty body and no way to
//! change it. So each accepted connection is read through
//! `EncodeRequestLine`, which percent-encodes every byte ≥ 0x80 in a request
//! line (what the browser would have sent) and leaves everything else as it
//! is. The query string then decodes as UTF-8 or, if it is not UTF-8, gets
//! `QueryParams`' 400 problem naming the parameter.
//!
//! Only request heads are touched. After a head announcing a body
//! (`Content-Length` other than 0, `Transfer-Encoding`) or a protocol switch
//! (`Upgrade`) the rest of the connection passes through unchanged, so a body
//! is never altered; a later raw request line on that same keep-alive
//! connection gets actix's plain 400 as before.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The rewriting of one connection's incoming bytes.
#[derive(Debug)]
struct Rewriter {
    state: State,
    /// Bytes of the current request line so far, `\r` not counted.
    line_len: usize,
    /// The start of the current header line, enough to read its name and a
    /// short value.
    header: Vec<u8>,
    /// The head read so far announces a body or a protocol switch.
    opaque_after_head: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    RequestLine,
    Headers,
    Passthrough,
}

const HEADER_PREFIX: usize = 64;

impl Rewriter {
    fn new() -> Rewriter {
        Rewriter {
            state: State::RequestLine,
            line_len: 0,
            header: Vec::with_capacity(HEADER_PREFIX),
            opaque_after_head: false,
        }
    }

    fn feed(&mut self, input: &[u8], out: &mut BytesMut) {
        for (i, &b) in input.iter().enumerate() {
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(&input[i..]);
                    return;
                }
                State::RequestLine => self.request_line_byte(b, out),
                State::Headers => {
                    out.extend_from_slice(&[b]);
                    self.header_byte(b);
                }
            }
        }
    }

    fn request_line_byte(&mut self, b: u8, out: &mut BytesMut) {
        match b {
            b'\n' => {
                out.extend_from_slice(b"\n");
                // Empty lines before a request line are allowed (RFC 9112 §2.2).
                if self.line_len > 0 {
                    self.state = State::Headers;
                    self.header.clear();
                    self.opaque_after_head = false;
                }
            }
            b'\r' => out.extend_from_slice(b"\r"),
            0x80..=0xff => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
                self.line_len += 1;
            }
            _ => {
                out.extend_from_slice(&[b]);
                self.line_len += 1;
            }
        }
    }

    fn header_byte(&mut self, b: u8) {
        if b != b'\n' {
            if self.header.len() < HEADER_PREFIX {
                self.header.push(b);
            }
            return;
        }
        let line = self.header.strip_suffix(b"\r").unwrap_or(&self.header);
        if line.is_empty() {
            // End of the head.
            self.state = if self.opaque_after_head {
                State::Passthrough
            } else {
                State::RequestLine
            };
            self.line_len = 0;
            return;
        }
        if let Some(at) = line.iter().position(|&c| c == b':') {
            let name = line[..at].trim_ascii();
            let value = line[at + 1..].trim_ascii();
            if name.eq_ignore_ascii_case(b"content-length") && value != b"0"
                || name.eq_ignore_ascii_case(b"transfer-encoding")
                || name.eq_ignore_ascii_case(b"upgrade")
            {
                self.opaque_after_head = true;
            }
        }
        self.header.clear();
    }
}

/// A connection whose request lines reach actix with non-ASCII bytes
/// percent-encoded; writes pass straight through.
pub struct EncodeRequestLine<IO> {
    io: IO,
    rewriter: Rewriter,
    /// Rewritten bytes not yet handed to the reader.
    pending: BytesMut,
}

impl<IO> EncodeRequestLine<IO> {
    pub fn new(io: IO) -> Self {
        EncodeRequestLine {
            io,
            rewriter: Rewriter::new(),
            pending: BytesMut::new(),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for EncodeRequestLine<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_empty() {
            if this.rewriter.state == State::Passthrough {
                return Pin::new(&mut this.io).poll_read(cx, buf);
            }
            let mut raw = [0u8; 4096];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.io).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            // Nothing read: the peer closed its side.
            if raw_buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.rewriter.feed(raw_buf.filled(), &mut this.pending);
        }
        let n = buf.remaining().min(this.pending.len());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for EncodeRequestLine<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` fed in pieces of `chunk` bytes, as the network may deliver it.
    fn rewrite(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut rewriter = Rewriter::new();
        let mut out = BytesMut::new();
        for piece in input.chunks(chunk) {
            rewriter.feed(piece, &mut out);
        }
        out.to_vec()
    }

    #[test]
    fn utf8_in_the_request_line_is_percent_encoded() {
        let input = "GET /api/v1/tasks?q=厕所 HTTP/1.1\r\nHost: x\r\n\r\n";
        for chunk in [1, 3, 1000] {
            assert_eq!(
                rewrite(input.as_bytes(), chunk),
                b"GET /api/v1/tasks?q=%E5%8E%95%E6%89%80 HTTP/1.1\r\nHost: x\r\n\r\n"
            );
        }
    }

    #[test]
    fn headers_are_left_alone_and_each_request_line_of_a_connection_is_encoded() {
        let input = "GET /a?x=é HTTP/1.1\r\nX-Name: 张三\r\n\r\n\
                     GET /b?y=ü HTTP/1.1\r\nContent-Length: 0\r\n\r\n\
                     \r\nGET /c?z=ß HTTP/1.1\r\n\r\n";
        let expected = "GET /a?x=%C3%A9 HTTP/1.1\r\nX-Name: 张三\r\n\r\n\
                        GET /b?y=%C3%BC HTTP/1.1\r\nContent-Length: 0\r\n\r\n\
                        \r\nGET /c?z=%C3%9F HTTP/1.1\r\n\r\n";
        assert_eq!(rewrite(input.as_bytes(), 5), expected.as_bytes());
    }

    #[test]
    fn a_body_and_all_after_it_pass_unchanged() {
        for header in [
            "Content-Length: 6",
            "transfer-encoding: chunked",
            "Upgrade: websocket",
        ] {
            let input = format!(
                "POST /a?x=é HTTP/1.1\r\n{header}\r\n\r\n\"名字\"GET /b?é HTTP/1.1\r\n\r\n"
            );
            let expected = format!(
                "POST /a?x=%C3%A9 HTTP/1.1\r\n{header}\r\n\r\n\"名字\"GET /b?é HTTP/1.1\r\n\r\n"
            );
            assert_eq!(
                rewrite(input.as_bytes(), 4),
                expected.as_bytes(),
                "{header}"
            );
        }
    }

    #[test]
    fn ascii_requests_are_unchanged() {
        let input = b"GET /api/v1/tasks?q=%E5%8E%95&page=2 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(rewrite(input, 7), input.to_vec());
    }
}
