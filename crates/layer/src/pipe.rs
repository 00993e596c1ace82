//! Decompression on a second thread, a few chunks ahead of the unpacker,
//! as `tar xzf` does with its gzip child: inflating and writing files then
//! overlap. The channel is bounded, so the decompressor never runs more
//! than `CHUNKS` × `CHUNK` bytes ahead of what the unpacker has counted
//! against its limits: a bomb still stops at the limit.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::compression::{decompress, Compression};

const CHUNK: usize = 1 << 20;
const CHUNKS: usize = 4;

/// Runs `consume` on the decompressed stream of `layer` while a scoped
/// thread decompresses. When `consume` returns, its reader is dropped, the
/// decompressor's next send fails and the thread ends; the scope joins it.
pub(crate) fn with_decompressed<T>(
    layer: impl Read + Send,
    compression: Compression,
    consume: impl FnOnce(ChannelReader) -> T,
) -> T {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel(CHUNKS);
        scope.spawn(move || produce(layer, compression, tx));
        consume(ChannelReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        })
    })
}

fn produce(layer: impl Read, compression: Compression, tx: SyncSender<io::Result<Vec<u8>>>) {
    let mut stream = match decompress(layer, compression) {
        Ok(stream) => stream,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match stream.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            // End of stream: dropping the sender tells the reader.
            return;
        }
        chunk.truncate(filled);
        if tx.send(Ok(chunk)).is_err() {
            // The unpacker has stopped (an error, a limit): so do we.
            return;
        }
    }
}

pub(crate) struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The sender is gone: the end of the stream.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_every_byte_and_errors() {
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &data).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let got = with_decompressed(&gz[..], Compression::Gzip, |mut r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map(|_| v)
        });
        assert_eq!(got.ok(), Some(data));
        let bad = with_decompressed(&gz[..gz.len() / 2], Compression::Gzip, |mut r| {
            r.read_to_end(&mut Vec::new())
        });
        assert!(bad.is_err());
        // The consumer stops early: the producer ends, the scope returns.
        let first = with_decompressed(&gz[..], Compression::Gzip, |mut r| {
            let mut b = [0u8; 10];
            r.read(&mut b)
        });
        assert_eq!(first.ok(), Some(10));
    }
}
