//! A reader that counts the decompressed tar stream and stops it at the
//! limits: the total (decompression bombs) and, while the tar reader looks
//! for the next entry, the PAX / GNU long-name headers it buffers in memory
//! (a 10 GB "long name" would otherwise be read into one `Vec`).

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Shared between the reader (inside the tar reader) and the unpacker,
/// which switches header mode on and off and asks which limit was hit.
#[derive(Debug)]
pub(crate) struct Meter {
    total: Cell<u64>,
    max_total: u64,
    /// Bytes the tar reader may still read before yielding the next entry;
    /// `None` while an entry's data is read.
    header_left: Cell<Option<u64>>,
    hit: Cell<Option<&'static str>>,
    /// The stream has ended (a read returned nothing).
    eof: Cell<bool>,
}

impl Meter {
    pub(crate) fn new(max_total: u64) -> Rc<Meter> {
        Rc::new(Meter {
            total: Cell::new(0),
            max_total,
            header_left: Cell::new(None),
            hit: Cell::new(None),
            eof: Cell::new(false),
        })
    }

    /// Bytes of the tar stream read so far.
    pub(crate) fn total(&self) -> u64 {
        self.total.get()
    }

    /// The tar reader is about to look for the next entry: it may read at
    /// most `budget` bytes (headers and their extensions) before yielding.
    pub(crate) fn begin_headers(&self, budget: u64) {
        self.header_left.set(Some(budget));
    }

    pub(crate) fn end_headers(&self) {
        self.header_left.set(None);
    }

    /// The limit that stopped the stream, if one did (errors that come out
    /// of the tar or gzip reader are then reported as that limit).
    pub(crate) fn hit(&self) -> Option<&'static str> {
        self.hit.get()
    }

    /// Whether the stream has ended. When the tar reader stops and this is
    /// already true, the archive ended without its end-of-archive block: it
    /// was cut at an entry boundary.
    pub(crate) fn at_eof(&self) -> bool {
        self.eof.get()
    }

    fn account(&self, n: u64) -> io::Result<()> {
        let total = self.total.get().saturating_add(n);
        self.total.set(total);
        if total > self.max_total {
            return Err(self.stop("max_bytes"));
        }
        if let Some(left) = self.header_left.get() {
            match left.checked_sub(n) {
                Some(left) => self.header_left.set(Some(left)),
                None => return Err(self.stop("max_metadata_bytes")),
            }
        }
        Ok(())
    }

    fn stop(&self, what: &'static str) -> io::Error {
        self.hit.set(Some(what));
        io::Error::other(format!("layer limit {what} reached"))
    }
}

pub(crate) struct Metered<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R: Read> Metered<R> {
    pub(crate) fn new(inner: R, meter: Rc<Meter>) -> Self {
        Metered { inner, meter }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(what) = self.meter.hit() {
            return Err(io::Error::other(format!("layer limit {what} reached")));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.meter.eof.set(true);
        }
        self.meter.account(n as u64)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_limit_stops_and_stays_stopped() {
        let meter = Meter::new(10);
        let mut r = Metered::new(io::repeat(0), meter.clone());
        let mut buf = [0u8; 8];
        assert!(r.read(&mut buf).is_ok());
        assert!(r.read(&mut buf).is_err());
        assert_eq!(meter.hit(), Some("max_bytes"));
        assert!(r.read(&mut buf).is_err());
    }

    #[test]
    fn header_budget_applies_only_in_header_mode() {
        let meter = Meter::new(u64::MAX);
        let mut r = Metered::new(io::repeat(0), meter.clone());
        let mut buf = [0u8; 512];
        meter.begin_headers(1024);
        assert!(r.read(&mut buf).is_ok());
        assert!(r.read(&mut buf).is_ok());
        meter.end_headers();
        assert!(r.read(&mut buf).is_ok());
        meter.begin_headers(100);
        assert!(r.read(&mut buf).is_err());
        assert_eq!(meter.hit(), Some("max_metadata_bytes"));
    }
}
