//! A small SMTP server for tests: listens on a random port, speaks enough
//! SMTP for lettre, keeps what it receives, and can be told to refuse.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// 451 to MAIL FROM: try again later.
    TempFail,
    /// 554 to MAIL FROM: never.
    PermFail,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The value of a header (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    value = Some(v.trim().to_string());
                }
            }
        }
        value
    }

    /// The subject, decoded from RFC 2047 UTF-8 encoded words.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject").unwrap_or_default())
    }

    /// The text/plain part, decoded.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// The text/html part, decoded.
    pub fn html(&self) -> String {
        self.part("text/html")
    }

    fn part(&self, content_type: &str) -> String {
        let Some(start) = self.data.find(&format!("Content-Type: {content_type}")) else {
            return String::new();
        };
        decode_part(&self.data[start..])
    }

    /// The decoded body of the attached file whose name contains `name`.
    pub fn attachment(&self, name: &str) -> Option<String> {
        let at = self
            .data
            .match_indices("filename=")
            .map(|(i, _)| i)
            .find(|i| self.data[*i..].lines().next().unwrap_or("").contains(name))?;
        // The part starts after the boundary line before its headers.
        let start = self.data[..at].rfind("\r\n--").map_or(0, |i| i + 4);
        let start = start + self.data[start..].find("\r\n").map_or(0, |i| i + 2);
        Some(decode_part(&self.data[start..]))
    }
}

/// A MIME part (its headers, then its body up to the next boundary), decoded.
fn decode_part(part: &str) -> String {
    let body_start = part.find("\r\n\r\n").map_or(0, |i| i + 4);
    let header = &part[..body_start];
    let body = &part[body_start..];
    let body = body.split("\r\n--").next().unwrap_or("");
    if header.contains("base64") {
        use base64::Engine;
        let joined: String = body.split("\r\n").collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    } else if header.contains("quoted-printable") {
        decode_qp(body)
    } else {
        body.to_string()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words anywhere in a header value;
/// white space between two encoded words is dropped, as the RFC says.
fn decode_words(s: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = s;
    let mut last_was_word = false;
    while !rest.is_empty() {
        let lower = rest.to_ascii_lowercase();
        match lower.find("=?utf-8?b?") {
            Some(start) => {
                let before = &rest[..start];
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                let after = &rest[start + 10..];
                let end = after.find("?=").unwrap_or(after.len());
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&after[..end])
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
                rest = after.get(end + 2..).unwrap_or("");
                last_was_word = true;
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    /// How long to think before accepting a message, to make delivery slow.
    delay: Arc<Mutex<std::time::Duration>>,
    /// Connections accepted so far.
    connections: Arc<Mutex<usize>>,
    /// Close a connection, without a word, after this many messages (as a
    /// server does with a connection it finds idle or used enough).
    per_connection: Arc<Mutex<Option<usize>>>,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = SmtpServer {
            port,
            received: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            delay: Arc::default(),
            connections: Arc::default(),
            per_connection: Arc::default(),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let s = s.clone();
                *s.connections.lock().unwrap() += 1;
                std::thread::spawn(move || {
                    let _ = s.session(stream);
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub fn set_messages_per_connection(&self, limit: usize) {
        *self.per_connection.lock().unwrap() = Some(limit);
    }

    /// How many connections clients have opened.
    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut out = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        out.write_all(b"220 localhost ESMTP test\r\n")?;
        let mut to = Vec::new();
        let mut line = String::new();
        let mut taken = 0;
        loop {
            if Some(taken) == *self.per_connection.lock().unwrap() {
                return Ok(());
            }
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM") {
                to.clear();
                match *self.mode.lock().unwrap() {
                    Mode::Accept => b"250 OK\r\n",
                    Mode::TempFail => b"451 4.3.0 try again later\r\n",
                    Mode::PermFail => b"554 5.7.1 rejected by policy\r\n",
                }
            } else if upper.starts_with("RCPT TO") {
                let addr = line
                    .split_once(':')
                    .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_string())
                    .unwrap_or_default();
                to.push(addr);
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                out.write_all(b"354 end with .\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(
                        l.strip_prefix('.')
                            .filter(|_| l.starts_with(".."))
                            .unwrap_or(&l),
                    );
                }
                // Think before accepting: the message counts as received
                // when the server says so, as with a real one.
                let delay = *self.delay.lock().unwrap();
                std::thread::sleep(delay);
                self.received.lock().unwrap().push(Received {
                    to: to.clone(),
                    data,
                });
                taken += 1;
                b"250 OK queued\r\n"
            } else if upper.starts_with("RSET") {
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("QUIT") {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            out.write_all(reply)?;
        }
    }
}

/// A local port nothing listens on: a mail server that is down.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("smtp://127.0.0.1:{port}")
}
