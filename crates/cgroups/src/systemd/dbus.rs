//! A small, blocking D-Bus client: just what the systemd driver needs
//! (AUTH EXTERNAL over a unix socket, method calls, one signal).
//!
//! Why hand-written rather than the zbus crate: see docs/architecture.md
//! ("systemd cgroup driver"). In short, ward-oci talks to systemd a handful
//! of times per container, with a fixed set of signatures; a full client
//! (with its async executor) costs more startup time and binary size than
//! the ~500 lines below, which are unit-tested against the wire format.
//!
//! Threat: the peer is systemd (root's bus or the user's own), but replies
//! are still parsed defensively: every length is bounds-checked, a message
//! is capped at 64 MiB, and nesting at 32 levels, so a broken or hostile
//! peer gets an error, never a panic or a huge allocation.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// A D-Bus value (only the types systemd's API needs here).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    Double(f64),
    Str(String),
    Path(String),
    Sig(String),
    /// Element signature and elements.
    Array(String, Vec<Value>),
    Struct(Vec<Value>),
    /// A dict entry `{kv}` (only inside arrays).
    Entry(Box<Value>, Box<Value>),
    Variant(Box<Value>),
}

impl Value {
    /// The value's signature.
    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::I32(_) => "i".into(),
            Value::U32(_) => "u".into(),
            Value::I64(_) => "x".into(),
            Value::U64(_) => "t".into(),
            Value::Double(_) => "d".into(),
            Value::Str(_) => "s".into(),
            Value::Path(_) => "o".into(),
            Value::Sig(_) => "g".into(),
            Value::Array(e, _) => format!("a{e}"),
            Value::Struct(v) => {
                let inner: String = v.iter().map(Value::signature).collect();
                format!("({inner})")
            }
            Value::Entry(k, v) => format!("{{{}{}}}", k.signature(), v.signature()),
            Value::Variant(_) => "v".into(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Sig(s) => Some(s),
            Value::Variant(v) => v.as_str(),
            _ => None,
        }
    }

    /// A systemd property: `(sv)`.
    pub fn prop(name: &str, v: Value) -> Value {
        Value::Struct(vec![Value::Str(name.into()), Value::Variant(Box::new(v))])
    }
}

/// A failure talking to the bus: transport, protocol or a D-Bus error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusError {
    /// Socket or protocol trouble.
    Io(String),
    /// The peer answered with an error (name, message).
    Reply(String, String),
}

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusError::Io(m) => write!(f, "{m}"),
            BusError::Reply(n, m) => write!(f, "{m} ({n})"),
        }
    }
}

type BResult<T> = std::result::Result<T, BusError>;

fn proto(msg: impl Into<String>) -> BusError {
    BusError::Io(format!("D-Bus protocol: {}", msg.into()))
}

const MAX_MESSAGE: usize = 64 << 20;
const MAX_DEPTH: usize = 32;

fn align_of(c: u8) -> usize {
    match c {
        b'y' | b'g' | b'v' => 1,
        b'b' | b'i' | b'u' | b's' | b'o' | b'a' => 4,
        b'x' | b't' | b'd' | b'(' | b'{' => 8,
        _ => 1,
    }
}

/// Serializes values (little-endian). Offsets are relative to the start of
/// the message, so alignment is right for header and body alike (the body
/// starts at a multiple of 8).
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, n: usize) {
        while self.buf.len() & (n - 1) != 0 {
            self.buf.push(0);
        }
    }
    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    fn sig(&mut self, s: &str) {
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Byte(b) => self.buf.push(*b),
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::I32(i) => {
                self.pad(4);
                self.buf.extend_from_slice(&i.to_le_bytes());
            }
            Value::U32(u) => self.u32(*u),
            Value::I64(i) => {
                self.pad(8);
                self.buf.extend_from_slice(&i.to_le_bytes());
            }
            Value::U64(u) => {
                self.pad(8);
                self.buf.extend_from_slice(&u.to_le_bytes());
            }
            Value::Double(d) => {
                self.pad(8);
                self.buf.extend_from_slice(&d.to_le_bytes());
            }
            Value::Str(s) | Value::Path(s) => self.string(s),
            Value::Sig(s) => self.sig(s),
            Value::Array(elem, items) => {
                self.u32(0);
                let len_at = self.buf.len() - 4;
                // Padding to the first element is not part of the length.
                self.pad(align_of(elem.as_bytes().first().copied().unwrap_or(b'y')));
                let start = self.buf.len();
                for i in items {
                    self.value(i);
                }
                let len = (self.buf.len() - start) as u32;
                self.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            }
            Value::Struct(items) => {
                self.pad(8);
                for i in items {
                    self.value(i);
                }
            }
            Value::Entry(k, v) => {
                self.pad(8);
                self.value(k);
                self.value(v);
            }
            Value::Variant(inner) => {
                self.sig(&inner.signature());
                self.value(inner);
            }
        }
    }
}

/// Index just past the single complete type starting at `sig[i]`.
fn type_end(sig: &[u8], i: usize) -> BResult<usize> {
    let bad = || proto(format!("bad signature {:?}", String::from_utf8_lossy(sig)));
    match sig.get(i).copied() {
        None => Err(bad()),
        Some(b'a') => type_end(sig, i + 1),
        Some(open @ (b'(' | b'{')) => {
            let close = if open == b'(' { b')' } else { b'}' };
            let mut j = i + 1;
            loop {
                match sig.get(j).copied() {
                    None => return Err(bad()),
                    Some(c) if c == close => return Ok(j + 1),
                    Some(_) => j = type_end(sig, j)?,
                }
            }
        }
        Some(b'y' | b'b' | b'n' | b'q' | b'i' | b'u' | b'x' | b't' | b'd' | b's' | b'o' | b'g')
        | Some(b'v' | b'h') => Ok(i + 1),
        Some(_) => Err(bad()),
    }
}

/// Splits a signature into its complete types.
fn split_sig(sig: &str) -> BResult<Vec<&str>> {
    let b = sig.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let e = type_end(b, i)?;
        out.push(&sig[i..e]);
        i = e;
    }
    Ok(out)
}

/// Deserializes values of a message (either byte order).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big: bool,
}

impl<'a> Reader<'a> {
    fn align(&mut self, n: usize) -> BResult<()> {
        let p = self.pos.div_ceil(n) * n;
        if p > self.buf.len() {
            return Err(proto("message truncated"));
        }
        self.pos = p;
        Ok(())
    }
    fn take(&mut self, n: usize) -> BResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| proto("message truncated"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn fixed<const N: usize>(&mut self) -> BResult<[u8; N]> {
        self.align(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        if self.big {
            a.reverse();
        }
        Ok(a)
    }
    fn u32(&mut self) -> BResult<u32> {
        Ok(u32::from_le_bytes(self.fixed::<4>()?))
    }
    fn text(&mut self, len: usize) -> BResult<String> {
        let b = self.take(len)?;
        let s = std::str::from_utf8(b)
            .map_err(|_| proto("string is not UTF-8"))?
            .to_string();
        if self.take(1)? != [0] {
            return Err(proto("string not NUL-terminated"));
        }
        Ok(s)
    }
    fn value(&mut self, sig: &str, depth: usize) -> BResult<Value> {
        if depth > MAX_DEPTH {
            return Err(proto("nesting too deep"));
        }
        let b = sig.as_bytes();
        Ok(match b.first().copied() {
            Some(b'y') => Value::Byte(self.take(1)?[0]),
            Some(b'b') => Value::Bool(self.u32()? != 0),
            Some(b'i') => Value::I32(i32::from_le_bytes(self.fixed::<4>()?)),
            Some(b'u') => Value::U32(self.u32()?),
            Some(b'x') => Value::I64(i64::from_le_bytes(self.fixed::<8>()?)),
            Some(b't') => Value::U64(u64::from_le_bytes(self.fixed::<8>()?)),
            Some(b'd') => Value::Double(f64::from_le_bytes(self.fixed::<8>()?)),
            Some(b'n') => Value::I32(i32::from(i16::from_le_bytes(self.fixed::<2>()?))),
            Some(b'q') => Value::U32(u32::from(u16::from_le_bytes(self.fixed::<2>()?))),
            Some(b'h') => Value::U32(self.u32()?),
            Some(b's') => {
                let n = self.u32()? as usize;
                Value::Str(self.text(n)?)
            }
            Some(b'o') => {
                let n = self.u32()? as usize;
                Value::Path(self.text(n)?)
            }
            Some(b'g') => {
                let n = usize::from(self.take(1)?[0]);
                Value::Sig(self.text(n)?)
            }
            Some(b'v') => {
                let n = usize::from(self.take(1)?[0]);
                let s = self.text(n)?;
                if type_end(s.as_bytes(), 0)? != s.len() {
                    return Err(proto("variant signature is not one type"));
                }
                Value::Variant(Box::new(self.value(&s, depth + 1)?))
            }
            Some(b'a') => {
                let elem = &sig[1..];
                let n = self.u32()? as usize;
                self.align(align_of(elem.as_bytes().first().copied().unwrap_or(b'y')))?;
                let end = self
                    .pos
                    .checked_add(n)
                    .filter(|e| *e <= self.buf.len())
                    .ok_or_else(|| proto("array longer than the message"))?;
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(elem, depth + 1)?);
                }
                if self.pos != end {
                    return Err(proto("array length mismatch"));
                }
                Value::Array(elem.to_string(), items)
            }
            Some(b'(') => {
                self.align(8)?;
                let mut items = Vec::new();
                for t in split_sig(&sig[1..sig.len() - 1])? {
                    items.push(self.value(t, depth + 1)?);
                }
                Value::Struct(items)
            }
            Some(b'{') => {
                self.align(8)?;
                let parts = split_sig(&sig[1..sig.len() - 1])?;
                if parts.len() != 2 {
                    return Err(proto("dict entry without two types"));
                }
                let k = self.value(parts[0], depth + 1)?;
                let v = self.value(parts[1], depth + 1)?;
                Value::Entry(Box::new(k), Box::new(v))
            }
            _ => return Err(proto(format!("unsupported type {sig:?}"))),
        })
    }
}

/// Message types.
pub const METHOD_CALL: u8 = 1;
pub const METHOD_RETURN: u8 = 2;
pub const ERROR: u8 = 3;
pub const SIGNAL: u8 = 4;

/// A D-Bus message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub kind: u8,
    pub serial: u32,
    pub reply_serial: Option<u32>,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub destination: Option<String>,
    pub body: Vec<Value>,
}

impl Message {
    /// The wire form (little-endian).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Writer::default();
        for v in &self.body {
            body.value(v);
        }
        let sig: String = self.body.iter().map(Value::signature).collect();
        let field = |code: u8, v: Value| {
            Value::Struct(vec![Value::Byte(code), Value::Variant(Box::new(v))])
        };
        let mut fields = Vec::new();
        if let Some(p) = &self.path {
            fields.push(field(1, Value::Path(p.clone())));
        }
        if let Some(i) = &self.interface {
            fields.push(field(2, Value::Str(i.clone())));
        }
        if let Some(m) = &self.member {
            fields.push(field(3, Value::Str(m.clone())));
        }
        if let Some(e) = &self.error_name {
            fields.push(field(4, Value::Str(e.clone())));
        }
        if let Some(r) = self.reply_serial {
            fields.push(field(5, Value::U32(r)));
        }
        if let Some(d) = &self.destination {
            fields.push(field(6, Value::Str(d.clone())));
        }
        if !sig.is_empty() {
            fields.push(field(8, Value::Sig(sig)));
        }
        let mut w = Writer::default();
        w.buf.extend_from_slice(&[b'l', self.kind, 0, 1]);
        w.u32(body.buf.len() as u32);
        w.u32(self.serial);
        w.value(&Value::Array("(yv)".into(), fields));
        w.pad(8);
        w.buf.extend_from_slice(&body.buf);
        w.buf
    }

    /// Total length of the message whose first 16 bytes are `head`.
    pub fn wire_len(head: &[u8; 16]) -> BResult<usize> {
        let big = match head[0] {
            b'l' => false,
            b'B' => true,
            _ => return Err(proto("bad byte-order mark")),
        };
        let num = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        let body = num(&head[4..8]) as usize;
        let fields = num(&head[12..16]) as usize;
        let total = (16 + fields).div_ceil(8) * 8 + body;
        if total > MAX_MESSAGE {
            return Err(proto(format!("message of {total} bytes is too big")));
        }
        Ok(total)
    }

    /// Parses one complete message.
    pub fn decode(buf: &[u8]) -> BResult<Message> {
        if buf.len() < 16 {
            return Err(proto("message truncated"));
        }
        let big = buf[0] == b'B';
        let mut head = [0u8; 16];
        head.copy_from_slice(&buf[..16]);
        let total = Message::wire_len(&head)?;
        if buf.len() != total {
            return Err(proto("message length mismatch"));
        }
        if buf[3] != 1 {
            return Err(proto("unsupported protocol version"));
        }
        let mut r = Reader { buf, pos: 4, big };
        let body_len = r.u32()? as usize;
        let mut m = Message {
            kind: buf[1],
            serial: r.u32()?,
            ..Message::default()
        };
        let fields = r.value("a(yv)", 0)?;
        let mut sig = String::new();
        if let Value::Array(_, items) = fields {
            for f in items {
                let Value::Struct(kv) = f else { continue };
                let (Some(Value::Byte(code)), Some(Value::Variant(v))) = (kv.first(), kv.get(1))
                else {
                    continue;
                };
                let s = v.as_str().map(str::to_string);
                match (code, v.as_ref()) {
                    (1, _) => m.path = s,
                    (2, _) => m.interface = s,
                    (3, _) => m.member = s,
                    (4, _) => m.error_name = s,
                    (5, Value::U32(n)) => m.reply_serial = Some(*n),
                    (6, _) => m.destination = s,
                    (8, _) => sig = s.unwrap_or_default(),
                    _ => {}
                }
            }
        }
        r.align(8)?;
        if buf.len() - r.pos != body_len {
            return Err(proto("body length mismatch"));
        }
        for t in split_sig(&sig)? {
            m.body.push(r.value(t, 0)?);
        }
        if r.pos != buf.len() {
            return Err(proto("trailing bytes after the body"));
        }
        Ok(m)
    }
}

/// The client's half of the SASL EXTERNAL handshake for `uid`.
pub fn auth_line(uid: u32) -> String {
    let hex: String = uid
        .to_string()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("AUTH EXTERNAL {hex}\r\n")
}

/// A connection to a bus or to a peer (systemd's private socket).
pub struct Conn {
    sock: UnixStream,
    serial: u32,
    /// Messages read while waiting for something else (signals).
    queued: Vec<Message>,
    /// Whether messages go through a bus daemon (then `destination` and
    /// match rules matter).
    pub bus: bool,
    /// The first call after BEGIN: systemd 252's private socket buffers a
    /// message that arrives in the same read as BEGIN and only looks at it
    /// on the next input, so if no answer comes quickly we send a Ping.
    nudge: bool,
}

impl Conn {
    /// Connects to the socket at `path` and authenticates as our uid; on a
    /// bus (`bus`), says Hello.
    pub fn connect(path: &Path, bus: bool, timeout: Duration) -> BResult<Conn> {
        let io =
            |what: &str, e: std::io::Error| BusError::Io(format!("{what} {}: {e}", path.display()));
        let sock = UnixStream::connect(path).map_err(|e| io("connecting to", e))?;
        sock.set_read_timeout(Some(timeout))
            .and_then(|()| sock.set_write_timeout(Some(timeout)))
            .map_err(|e| io("setting timeouts on", e))?;
        let mut c = Conn {
            sock,
            serial: 0,
            queued: Vec::new(),
            bus,
            nudge: false,
        };
        let uid = nix::unistd::geteuid().as_raw();
        c.sock
            .write_all(format!("\0{}", auth_line(uid)).as_bytes())
            .map_err(|e| io("authenticating to", e))?;
        let line = c.read_line().map_err(|e| io("authenticating to", e))?;
        if !line.starts_with("OK ") {
            return Err(BusError::Io(format!(
                "{} refused authentication as uid {uid}: {line:?}",
                path.display()
            )));
        }
        c.sock
            .write_all(b"BEGIN\r\n")
            .map_err(|e| io("authenticating to", e))?;
        c.nudge = true;
        if bus {
            c.call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "Hello",
                vec![],
            )?;
        }
        Ok(c)
    }

    fn read_line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            self.sock.read_exact(&mut b)?;
            line.push(b[0]);
            if line.len() > 4096 {
                return Err(std::io::Error::other("authentication line too long"));
            }
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    /// Whether the socket has input within `t`.
    fn readable(&self, t: Duration) -> bool {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        let ms = PollTimeout::try_from(t).unwrap_or(PollTimeout::MAX);
        matches!(poll(&mut fds, ms), Ok(n) if n > 0)
    }

    fn read_message(&mut self) -> BResult<Message> {
        let mut head = [0u8; 16];
        self.sock
            .read_exact(&mut head)
            .map_err(|e| BusError::Io(format!("reading from the bus: {e}")))?;
        let total = Message::wire_len(&head)?;
        let mut buf = vec![0u8; total];
        buf[..16].copy_from_slice(&head);
        self.sock
            .read_exact(&mut buf[16..])
            .map_err(|e| BusError::Io(format!("reading from the bus: {e}")))?;
        Message::decode(&buf)
    }

    /// Calls a method and returns the reply's body; an error reply is
    /// `BusError::Reply`. Signals that arrive meanwhile are kept for
    /// [`Conn::wait_signal`].
    pub fn call(
        &mut self,
        dest: &str,
        path: &str,
        iface: &str,
        member: &str,
        args: Vec<Value>,
    ) -> BResult<Vec<Value>> {
        self.serial = self.serial.wrapping_add(1).max(1);
        let serial = self.serial;
        let m = Message {
            kind: METHOD_CALL,
            serial,
            path: Some(path.into()),
            interface: Some(iface.into()),
            member: Some(member.into()),
            destination: Some(dest.into()),
            body: args,
            ..Message::default()
        };
        self.sock
            .write_all(&m.encode())
            .map_err(|e| BusError::Io(format!("writing to the bus: {e}")))?;
        if std::mem::take(&mut self.nudge) && !self.readable(Duration::from_millis(50)) {
            self.serial = self.serial.wrapping_add(1).max(1);
            let ping = Message {
                kind: METHOD_CALL,
                serial: self.serial,
                path: Some("/".into()),
                interface: Some("org.freedesktop.DBus.Peer".into()),
                member: Some("Ping".into()),
                destination: Some(dest.into()),
                ..Message::default()
            };
            self.sock
                .write_all(&ping.encode())
                .map_err(|e| BusError::Io(format!("writing to the bus: {e}")))?;
        }
        loop {
            let r = self.read_message()?;
            if r.reply_serial == Some(serial) && matches!(r.kind, METHOD_RETURN | ERROR) {
                if r.kind == ERROR {
                    let text = r
                        .body
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    return Err(BusError::Reply(r.error_name.unwrap_or_default(), text));
                }
                return Ok(r.body);
            }
            if r.kind == SIGNAL {
                self.queued.push(r);
            }
        }
    }

    /// Waits up to `timeout` for a signal that `want` accepts.
    pub fn wait_signal(
        &mut self,
        want: impl Fn(&Message) -> bool,
        timeout: Duration,
    ) -> BResult<Message> {
        if let Some(i) = self.queued.iter().position(&want) {
            return Ok(self.queued.remove(i));
        }
        let deadline = Instant::now() + timeout;
        let old = self.sock.read_timeout().ok().flatten();
        let res = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(BusError::Io(format!(
                    "no answer from systemd within {}s",
                    timeout.as_secs()
                )));
            }
            if let Err(e) = self.sock.set_read_timeout(Some(left)) {
                break Err(BusError::Io(format!("setting a timeout: {e}")));
            }
            match self.read_message() {
                Ok(m) if m.kind == SIGNAL && want(&m) => break Ok(m),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        let _ = self.sock.set_read_timeout(old);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_of_nested_values() {
        let props = Value::Array(
            "(sv)".into(),
            vec![Value::prop(
                "PIDs",
                Value::Array("u".into(), vec![Value::U32(7)]),
            )],
        );
        assert_eq!(props.signature(), "a(sv)");
        let aux = Value::Array("(sa(sv))".into(), vec![]);
        assert_eq!(aux.signature(), "a(sa(sv))");
        assert_eq!(
            Value::Entry(Box::new(Value::Str("k".into())), Box::new(Value::U64(1))).signature(),
            "{st}"
        );
    }

    /// Bytes checked by hand against the D-Bus specification's rules
    /// (little-endian, alignment from the message start, array length
    /// without the padding before the first element).
    #[test]
    fn encodes_a_method_call_as_the_spec_says() {
        let m = Message {
            kind: METHOD_CALL,
            serial: 3,
            path: Some("/a".into()),
            member: Some("M".into()),
            body: vec![Value::Str("x".into()), Value::U64(0x0102)],
            ..Message::default()
        };
        let b = m.encode();
        // Fixed header: 'l', call, flags 0, version 1, body length, serial.
        assert_eq!(&b[0..4], b"l\x01\x00\x01");
        // body: "x" = len(4) + 'x' + NUL (6 bytes), pad to 8, u64 (8) = 16.
        assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), 16);
        assert_eq!(u32::from_le_bytes([b[8], b[9], b[10], b[11]]), 3);
        // Header fields: path (1,'o',"/a"), member (3,'s',"M"), signature (8,'g',"st").
        let fields_len = u32::from_le_bytes([b[12], b[13], b[14], b[15]]) as usize;
        let expect: &[u8] = &[
            1, 1, b'o', 0, 2, 0, 0, 0, b'/', b'a', 0, 0, 0, 0, 0, 0, // path + pad
            3, 1, b's', 0, 1, 0, 0, 0, b'M', 0, 0, 0, 0, 0, 0, 0, // member + pad
            8, 1, b'g', 0, 2, b's', b't', 0, // signature
        ];
        assert_eq!(&b[16..16 + fields_len], expect);
        let body_at = (16 + fields_len).div_ceil(8) * 8;
        assert_eq!(
            &b[body_at..],
            &[1, 0, 0, 0, b'x', 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(Message::decode(&b).expect("decodes"), m);
    }

    #[test]
    fn start_transient_unit_round_trips() {
        let body = vec![
            Value::Str("ward-x.scope".into()),
            Value::Str("fail".into()),
            Value::Array(
                "(sv)".into(),
                vec![
                    Value::prop("Delegate", Value::Bool(true)),
                    Value::prop("PIDs", Value::Array("u".into(), vec![Value::U32(42)])),
                    Value::prop("MemoryMax", Value::U64(1 << 30)),
                    Value::prop(
                        "AllowedCPUs",
                        Value::Array("y".into(), vec![Value::Byte(3)]),
                    ),
                    Value::prop("Slice", Value::Str("system.slice".into())),
                ],
            ),
            Value::Array("(sa(sv))".into(), vec![]),
        ];
        let m = Message {
            kind: METHOD_CALL,
            serial: 9,
            path: Some("/org/freedesktop/systemd1".into()),
            interface: Some("org.freedesktop.systemd1.Manager".into()),
            member: Some("StartTransientUnit".into()),
            destination: Some("org.freedesktop.systemd1".into()),
            body,
            ..Message::default()
        };
        let b = m.encode();
        assert_eq!(Message::decode(&b).expect("decodes"), m);
    }

    #[test]
    fn decodes_a_big_endian_signal() {
        // JobRemoved(uoss) as a big-endian peer would send it.
        let mut body = Vec::new();
        body.extend_from_slice(&7u32.to_be_bytes());
        let s = |body: &mut Vec<u8>, t: &str| {
            while body.len() & 3 != 0 {
                body.push(0);
            }
            body.extend_from_slice(&(t.len() as u32).to_be_bytes());
            body.extend_from_slice(t.as_bytes());
            body.push(0);
        };
        s(&mut body, "/j/7");
        s(&mut body, "u.scope");
        s(&mut body, "done");
        let mut fields = Vec::new();
        fields.extend_from_slice(&[8, 1, b'g', 0, 4, b'u', b'o', b's', b's', 0]);
        let mut b = vec![b'B', SIGNAL, 0, 1];
        b.extend_from_slice(&(body.len() as u32).to_be_bytes());
        b.extend_from_slice(&5u32.to_be_bytes());
        b.extend_from_slice(&(fields.len() as u32).to_be_bytes());
        b.extend_from_slice(&fields);
        while b.len() & 7 != 0 {
            b.push(0);
        }
        b.extend_from_slice(&body);
        let m = Message::decode(&b).expect("decodes");
        assert_eq!(m.kind, SIGNAL);
        assert_eq!(m.serial, 5);
        assert_eq!(
            m.body,
            vec![
                Value::U32(7),
                Value::Path("/j/7".into()),
                Value::Str("u.scope".into()),
                Value::Str("done".into())
            ]
        );
    }

    #[test]
    fn hostile_lengths_are_errors_not_panics() {
        let good = Message {
            kind: METHOD_RETURN,
            serial: 1,
            reply_serial: Some(1),
            body: vec![Value::Array("s".into(), vec![Value::Str("a".into())])],
            ..Message::default()
        }
        .encode();
        // Every truncation and every single-byte corruption must be handled.
        for n in 0..good.len() {
            let _ = Message::decode(&good[..n]);
        }
        for i in 0..good.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = good.clone();
                b[i] = v;
                let _ = Message::decode(&b);
            }
        }
        let mut head = [0u8; 16];
        head[0] = b'l';
        head[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Message::wire_len(&head).is_err());
        assert!(type_end(b"a", 0).is_err());
        assert!(type_end(b"(s", 0).is_err());
    }

    #[test]
    fn auth_sends_the_uid_in_hex_ascii() {
        assert_eq!(auth_line(0), "AUTH EXTERNAL 30\r\n");
        assert_eq!(auth_line(1000), "AUTH EXTERNAL 31303030\r\n");
    }
}
