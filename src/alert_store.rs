//! Alerts held for the final ordering: serialized JSON lines with their sort keys, in memory up
//! to a budget, then as sorted runs in temporary files, merged in order at the end. Memory stays
//! bounded however many alerts a hunt makes; the output is the same either way.

use crate::alert::Alert;
use crate::engine::SortKey;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

/// Bytes of a run entry's header: the key's fields and the line's length, little-endian.
const HEADER: usize = 16 + 4 + 8 + 4 + 4 + 4;
/// The least memory budget: smaller runs would only multiply them.
const MIN_BUDGET: usize = 64 << 10;
/// Read-back buffers of all runs of a merge together, within [4 KiB, 64 KiB] each.
const MERGE_BUFFERS: usize = 8 << 20;

/// One handler's alerts.
pub struct AlertStore {
    bytes: Vec<u8>,
    index: Vec<(SortKey, usize, usize)>,
    /// Bytes of serialized alerts kept in memory before they are written out as a run.
    budget: usize,
    /// One temporary file per store holds its runs one after another (one descriptor however
    /// many runs there are).
    file: Option<File>,
    /// Each run's offset and length in `file`, and its number of alerts.
    runs: Vec<Run>,
    /// Alerts per rule index (correlations after the rules).
    pub by_rule: BTreeMap<u32, u64>,
    /// Alerts per level, as written (an inventory may raise a rule's level).
    pub by_level: BTreeMap<String, u64>,
    pub spilled: u64,
    /// Set when a run could not be written; alerts then stay in memory.
    pub spill_error: Option<io::Error>,
}

impl AlertStore {
    pub fn new(budget: usize) -> AlertStore {
        AlertStore {
            bytes: Vec::new(),
            index: Vec::new(),
            budget: budget.max(MIN_BUDGET),
            file: None,
            runs: Vec::new(),
            by_rule: BTreeMap::new(),
            by_level: BTreeMap::new(),
            spilled: 0,
            spill_error: None,
        }
    }

    pub fn push(&mut self, key: SortKey, alert: &Alert) {
        *self.by_level.entry(alert.rule.level.clone()).or_default() += 1;
        self.push_item(key, alert);
    }

    /// Keeps any serializable item under `key` (the engine's correlation hits use the same
    /// bounded, ordered storage as alerts).
    pub fn push_item<T: serde::Serialize>(&mut self, key: SortKey, item: &T) {
        let start = self.bytes.len();
        // Serializing our own plain structs cannot fail. sonic-rs writes the same compact
        // JSON as serde_json, faster (its string escaping is vectorized).
        let _ = sonic_rs::to_writer(&mut self.bytes, item);
        self.index.push((key, start, self.bytes.len()));
        *self.by_rule.entry(key.rule).or_default() += 1;
        if self.bytes.len() >= self.budget
            && self.spill_error.is_none()
            && let Err(e) = self.spill()
        {
            self.spill_error = Some(e);
        }
    }

    /// Writes the alerts in memory as one sorted run; on failure they stay in memory.
    fn spill(&mut self) -> io::Result<()> {
        self.index.sort_unstable_by_key(|&(k, ..)| k);
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let offset = file.seek(SeekFrom::End(0))?;
        let mut out = BufWriter::with_capacity(64 << 10, &mut *file);
        let mut len = 0u64;
        for &(key, a, b) in &self.index {
            let line = &self.bytes[a..b];
            let line_len = u32::try_from(line.len()).map_err(io::Error::other)?;
            out.write_all(&key.time.to_le_bytes())?;
            out.write_all(&key.input.to_le_bytes())?;
            out.write_all(&key.line.to_le_bytes())?;
            out.write_all(&key.item.to_le_bytes())?;
            out.write_all(&key.rule.to_le_bytes())?;
            out.write_all(&line_len.to_le_bytes())?;
            out.write_all(line)?;
            len += (HEADER + line.len()) as u64;
        }
        out.into_inner().map_err(io::IntoInnerError::into_error)?;
        self.runs.push(Run {
            offset,
            len,
            count: self.index.len(),
        });
        self.spilled += self.index.len() as u64;
        self.bytes.clear();
        self.index.clear();
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    offset: u64,
    len: u64,
    count: usize,
}

/// The alerts of a hunt, to be read in their final order.
pub struct Alerts {
    stores: Vec<AlertStore>,
}

impl Alerts {
    pub fn new(mut stores: Vec<AlertStore>) -> Alerts {
        for store in &mut stores {
            store.index.sort_unstable_by_key(|&(k, ..)| k);
        }
        Alerts { stores }
    }

    /// Calls `each` with every alert's JSON line (no newline) in order: event time, input,
    /// line, item, rule. Keys are unique (one alert per record, item and rule), so the order
    /// does not depend on which thread made an alert.
    pub fn try_for_each_line(
        self,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let runs: usize = self.stores.iter().map(|s| s.runs.len()).sum();
        let buffer = (MERGE_BUFFERS / runs.max(1)).clamp(4 << 10, 64 << 10);
        let mut cursors = Vec::new();
        for store in &self.stores {
            if let Some(file) = &store.file {
                for run in &store.runs {
                    cursors.push(Cursor::Run(RunReader {
                        file,
                        next: run.offset,
                        end: run.offset + run.len,
                        buf: vec![0; buffer],
                        pos: 0,
                        filled: 0,
                        left: run.count,
                        head: 0..0,
                    }));
                }
            }
            cursors.push(Cursor::Memory { store, next: 0 });
        }
        let mut heap = BinaryHeap::new();
        for (i, cursor) in cursors.iter_mut().enumerate() {
            if let Some(key) = cursor.advance()? {
                heap.push(Reverse((key, i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            each(cursors[i].head())?;
            if let Some(key) = cursors[i].advance()? {
                heap.push(Reverse((key, i)));
            }
        }
        Ok(())
    }
}

/// One sorted source of the merge; its current alert's line stays where it was read (no copy
/// per line).
enum Cursor<'s> {
    Run(RunReader<'s>),
    /// (Its current alert is the one before `next`.)
    Memory {
        store: &'s AlertStore,
        next: usize,
    },
}

impl Cursor<'_> {
    /// Moves to the next alert and returns its key; `None` at the end.
    fn advance(&mut self) -> io::Result<Option<SortKey>> {
        match self {
            Cursor::Memory { store, next } => {
                let Some(&(key, ..)) = store.index.get(*next) else {
                    return Ok(None);
                };
                *next += 1;
                Ok(Some(key))
            }
            Cursor::Run(run) => {
                if run.left == 0 {
                    return Ok(None);
                }
                run.left -= 1;
                run.fill(HEADER)?;
                let header = &run.buf[run.pos..run.pos + HEADER];
                let field = |from: usize, to: usize| &header[from..to];
                let key = SortKey {
                    time: i128::from_le_bytes(le(field(0, 16))),
                    input: u32::from_le_bytes(le(field(16, 20))),
                    line: u64::from_le_bytes(le(field(20, 28))),
                    item: u32::from_le_bytes(le(field(28, 32))),
                    rule: u32::from_le_bytes(le(field(32, 36))),
                };
                let len = u32::from_le_bytes(le(field(36, 40))) as usize;
                run.fill(HEADER + len)?;
                let start = run.pos + HEADER;
                run.head = start..start + len;
                run.pos = start + len;
                Ok(Some(key))
            }
        }
    }

    /// The current alert's JSON line.
    fn head(&self) -> &[u8] {
        match self {
            Cursor::Memory { store, next } => match next.checked_sub(1).map(|i| store.index[i]) {
                Some((_, a, b)) => &store.bytes[a..b],
                None => &[],
            },
            Cursor::Run(run) => &run.buf[run.head.clone()],
        }
    }
}

/// Reads one run of the shared file at its own offset (positional reads, so runs of one file
/// are read side by side without a descriptor each).
struct RunReader<'s> {
    file: &'s File,
    /// Offset in the file of the first byte not read yet, and of the run's end.
    next: u64,
    end: u64,
    buf: Vec<u8>,
    /// `buf[pos..filled]` is read and not yet consumed.
    pos: usize,
    filled: usize,
    left: usize,
    /// Where the current alert's line is in `buf`.
    head: std::ops::Range<usize>,
}

impl RunReader<'_> {
    /// Makes `buf[pos..pos + want]` hold the run's next `want` bytes (moving what is left to
    /// the front and reading after it; the buffer grows for a line longer than itself).
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.filled - self.pos >= want {
            return Ok(());
        }
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let room = (self.buf.len() - self.filled) as u64;
        let n = room.min(self.end - self.next) as usize;
        if self.filled + n < want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "alert run ended early",
            ));
        }
        read_at(
            self.file,
            &mut self.buf[self.filled..self.filled + n],
            self.next,
        )?;
        self.next += n as u64;
        self.filled += n;
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// A fixed-size array from a slice of exactly that size (the header's layout guarantees it).
fn le<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines longer than a run's read buffer (up to 64 KiB), among short ones, come back whole
    /// and in key order from spilled runs and memory alike.
    #[test]
    fn merged_runs_give_every_line_whole_in_order() {
        let mut store = AlertStore::new(0);
        let mut expected = Vec::new();
        for n in 0..300u32 {
            let pad = if n % 7 == 0 {
                150_000
            } else {
                (n as usize * 37) % 900
            };
            let item = serde_json::json!({"n": n, "pad": "x".repeat(pad)});
            let key = SortKey {
                time: i128::from((n * 7919) % 300),
                input: 0,
                line: u64::from(n),
                item: 0,
                rule: 0,
            };
            expected.push((key, serde_json::to_vec(&item).expect("serializes")));
            store.push_item(key, &item);
        }
        assert!(store.runs.len() > 10, "the test must spill runs");
        expected.sort_by_key(|(key, _)| *key);
        let mut got = Vec::new();
        Alerts::new(vec![store])
            .try_for_each_line(|line| {
                got.push(line.to_vec());
                Ok(())
            })
            .expect("merges");
        assert_eq!(got.len(), expected.len());
        assert!(got.iter().zip(&expected).all(|(g, (_, e))| g == e));
    }

    /// The store writes with sonic-rs for speed; what it writes must be what serde_json would
    /// (the alert contract's bytes), escapes and non-ASCII text included.
    #[test]
    fn stored_json_is_what_serde_json_writes() {
        #[derive(serde::Serialize)]
        struct Item<'a> {
            text: &'a str,
            none: Option<u8>,
            list: Vec<&'a str>,
            number: i64,
        }
        for text in [
            "plain",
            "al\u{1}ice\n\t\r\u{8}\u{c}\"q\\",
            "\u{0}\u{1f}\u{7f}",
            "é \u{2028} </script> ÿ 😀",
            "",
        ] {
            let item = Item {
                text,
                none: None,
                list: vec![text, "x"],
                number: -42,
            };
            let serde = serde_json::to_vec(&item).expect("serializes");
            let mut sonic = Vec::new();
            sonic_rs::to_writer(&mut sonic, &item).expect("serializes");
            assert_eq!(
                String::from_utf8_lossy(&sonic),
                String::from_utf8_lossy(&serde),
                "{text:?}"
            );
        }
    }
}
