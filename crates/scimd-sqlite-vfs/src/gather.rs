//! Which WAL writes may wait in memory, and when they must reach the file: the part of
//! the VFS with no `unsafe` and no SQLite, so that it can be tested on its own.
//!
//! What SQLite writes to a WAL file (`wal.c` in SQLite 3.46; the file format is in
//! SQLite's "Database File Format", section 4):
//!
//! 1. the 32-byte WAL header at offset 0, when the WAL starts over;
//! 2. each frame as two writes, back to back: its 24-byte frame header, then the page
//!    at the next byte (`walWriteOneFrame`). A commit's last frame has the database
//!    size after the commit in bytes 4-7 of its header; every other frame has 0 there;
//! 3. a page written again over a frame of the transaction still open (a page the
//!    transaction had already spilled to the WAL), at that frame's offset plus 24;
//! 4. after such rewrites, the frame headers from the first rewritten frame on, again,
//!    each right after reading that frame back (`walRewriteChecksums`).
//!
//! Only (1) and (2) are appends at the WAL's end, and only they are held back. The
//! rules that keep a commit exactly as durable and as visible as SQLite makes it:
//!
//! - a commit frame's page, once appended, sends everything held at once, before the
//!   `xWrite` that brought it returns. SQLite publishes a commit to other connections
//!   (in the WAL index, shared memory) only after its frames are written, so readers
//!   never look for a frame still in memory; and a process that dies after the commit
//!   returned has written all of it, as before;
//! - anything else (a read, a sync, a truncate, the file's size, a file control, a
//!   write anywhere else, closing) first sends what is held, so every other call sees
//!   the file as SQLite wrote it;
//! - a write of any other shape is passed through as it comes. If a later SQLite wrote
//!   its frames differently, writes would simply stop being gathered.
//!
//! What is held and not yet sent is never part of a commit: if the process dies, the
//! WAL ends before an uncommitted frame, which recovery ignores anyway. And a
//! connection that does not spill pages before its commit (the crate's one
//! requirement, see its docs) never leaves anything held between transactions.

/// Bytes in a WAL frame header (file format, 4.1).
pub(crate) const FRAME_HEADER: usize = 24;

/// Bytes in the WAL header (file format, 4.1).
pub(crate) const WAL_HEADER: usize = 32;

/// Past this many bytes held, they are sent even without a commit, so a large
/// transaction does not grow the buffer without end. 256 KiB is some 60 frames of
/// 4 KiB: a commit up to that size is held whole, and a group commit of scimd's writer
/// (32 user creates, fewer than 400 frames) goes out in a handful of writes instead
/// of 800.
pub(crate) const MAX_HELD: usize = 256 * 1024;

/// The buffer's one allocation, made at the first write held: [`MAX_HELD`] plus the
/// largest frame (SQLite's largest page, 64 KiB, and its header), since a frame that
/// crosses the limit is appended whole before the flush. Allocated once and never
/// grown, a buffer costs no reallocations, and the resident memory of a file that
/// only ever holds small commits stays at the pages they touched (a buffer grown by
/// doubling to a mebibyte had put 8-12 MB on the server's peak RSS).
const CAPACITY: usize = MAX_HELD + 65_536 + FRAME_HEADER;

/// Where held bytes are sent: the wrapped file's own `xWrite`. `Err` is SQLite's
/// result code.
pub(crate) trait Sink {
    fn write_at(&mut self, bytes: &[u8], offset: i64) -> Result<(), i32>;
}

/// The bytes held for one WAL file, and what it has seen.
#[derive(Debug, Default)]
pub(crate) struct Gather {
    /// Bytes held, to be written at `start`.
    held: Vec<u8>,
    start: i64,
    /// A frame header was the last write held: `Some(is_commit)` until its page comes.
    awaiting_page: Option<bool>,
    /// The end of what this handle has written since the WAL last started over: a
    /// frame header at or past it is a new frame, one before it a rewrite (4).
    written_end: i64,
}

impl Gather {
    /// How many bytes are held right now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }

    /// One `xWrite` of `bytes` at `offset`.
    pub(crate) fn write(
        &mut self,
        sink: &mut impl Sink,
        bytes: &[u8],
        offset: i64,
    ) -> Result<(), i32> {
        let end = offset.saturating_add(i64::try_from(bytes.len()).unwrap_or(i64::MAX));
        let result = self.write_inner(sink, bytes, offset);
        self.written_end = self.written_end.max(end);
        result
    }

    fn write_inner(&mut self, sink: &mut impl Sink, bytes: &[u8], offset: i64) -> Result<(), i32> {
        if let Some(is_commit) = self.awaiting_page {
            if offset == self.held_end() {
                // (2): the page of the frame header held just before.
                self.awaiting_page = None;
                self.append(bytes);
                return if is_commit || self.held.len() >= MAX_HELD {
                    self.flush(sink)
                } else {
                    Ok(())
                };
            }
        }
        if offset == 0 && bytes.len() == WAL_HEADER {
            // (1): the WAL starts over; frames follow from byte 32.
            self.flush(sink)?;
            self.written_end = 0;
            self.hold(bytes, offset);
            return Ok(());
        }
        if bytes.len() == FRAME_HEADER && offset >= self.written_end {
            // (2): a new frame's header. Held only if it extends what is held.
            if !self.held.is_empty() && offset != self.held_end() {
                self.flush(sink)?;
            }
            self.hold(bytes, offset);
            self.awaiting_page = Some(bytes[4..8] != [0, 0, 0, 0]);
            return Ok(());
        }
        // (3), (4) or a shape this code does not know: in order, as it comes.
        self.flush(sink)?;
        sink.write_at(bytes, offset)
    }

    /// Sends what is held. Afterwards nothing is held, whether it succeeded or not: a
    /// failed write is SQLite's to handle (it rolls the transaction back), and the
    /// bytes must not reach the file later, over newer ones.
    pub(crate) fn flush(&mut self, sink: &mut impl Sink) -> Result<(), i32> {
        self.awaiting_page = None;
        if self.held.is_empty() {
            return Ok(());
        }
        let result = sink.write_at(&self.held, self.start);
        self.held.clear();
        result
    }

    /// The file was truncated to `size` bytes (after a flush).
    pub(crate) fn truncated(&mut self, size: i64) {
        self.written_end = self.written_end.min(size);
    }

    fn hold(&mut self, bytes: &[u8], offset: i64) {
        if self.held.is_empty() {
            self.start = offset;
        }
        self.append(bytes);
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.held.capacity() == 0 {
            self.held.reserve_exact(CAPACITY);
        }
        self.held.extend_from_slice(bytes);
    }

    fn held_end(&self) -> i64 {
        self.start
            .saturating_add(i64::try_from(self.held.len()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A file in memory that records every write it receives.
    #[derive(Default)]
    struct File {
        bytes: Vec<u8>,
        writes: Vec<(i64, usize)>,
        fail: bool,
    }

    impl Sink for File {
        fn write_at(&mut self, bytes: &[u8], offset: i64) -> Result<(), i32> {
            if self.fail {
                return Err(778); // SQLITE_IOERR_WRITE
            }
            let at = usize::try_from(offset).unwrap();
            if self.bytes.len() < at + bytes.len() {
                self.bytes.resize(at + bytes.len(), 0);
            }
            self.bytes[at..at + bytes.len()].copy_from_slice(bytes);
            self.writes.push((offset, bytes.len()));
            Ok(())
        }
    }

    const PAGE: usize = 4096;
    const FRAME: i64 = (FRAME_HEADER + PAGE) as i64;

    fn frame_header(page_number: u32, commit_size: u32) -> Vec<u8> {
        let mut header = vec![0u8; FRAME_HEADER];
        header[0..4].copy_from_slice(&page_number.to_be_bytes());
        header[4..8].copy_from_slice(&commit_size.to_be_bytes());
        header[8..].fill(0xab);
        header
    }

    fn page(fill: u8) -> Vec<u8> {
        vec![fill; PAGE]
    }

    fn frame_offset(index: i64) -> i64 {
        WAL_HEADER as i64 + index * FRAME
    }

    /// A gatherer and its file after SQLite wrote the WAL's header (held, like any
    /// append, until the first commit).
    fn after_wal_header() -> (Gather, File) {
        let mut gather = Gather::default();
        let mut file = File::default();
        gather.write(&mut file, &[7; WAL_HEADER], 0).unwrap();
        (gather, file)
    }

    /// Writes frames `first..first + count` the way SQLite does, the last one a commit.
    fn commit(gather: &mut Gather, file: &mut File, first: i64, count: i64) {
        for index in first..first + count {
            let commit_size = if index == first + count - 1 { 10 } else { 0 };
            let at = frame_offset(index);
            gather
                .write(file, &frame_header(index as u32 + 1, commit_size), at)
                .unwrap();
            gather
                .write(file, &page(index as u8), at + FRAME_HEADER as i64)
                .unwrap();
        }
    }

    #[test]
    fn a_commit_reaches_the_file_in_one_write_before_its_last_write_returns() {
        let (mut gather, mut file) = after_wal_header();
        commit(&mut gather, &mut file, 0, 6);
        assert_eq!(file.writes, vec![(0, WAL_HEADER + 6 * FRAME as usize)]);
        assert_eq!(gather.held(), 0);
        commit(&mut gather, &mut file, 6, 3);
        assert_eq!(file.writes[1], (frame_offset(6), 3 * FRAME as usize));
        assert_eq!(gather.held(), 0);
    }

    #[test]
    fn frames_without_a_commit_wait_until_the_file_is_used_otherwise() {
        let mut gather = Gather::default();
        let mut file = File::default();
        let at = frame_offset(0);
        gather.write(&mut file, &frame_header(1, 0), at).unwrap();
        gather
            .write(&mut file, &page(1), at + FRAME_HEADER as i64)
            .unwrap();
        assert!(file.writes.is_empty());
        assert_eq!(gather.held(), FRAME as usize);
        gather.flush(&mut file).unwrap();
        assert_eq!(file.writes, vec![(at, FRAME as usize)]);
    }

    /// Rewrites of the open transaction's frames (SQLite's `walRewriteChecksums`, and
    /// pages written again) go to the file as they come, commit mark or not: nothing
    /// follows the last of them that would send it.
    #[test]
    fn rewrites_of_earlier_frames_are_written_at_once() {
        let (mut gather, mut file) = after_wal_header();
        commit(&mut gather, &mut file, 0, 4);
        let writes = file.writes.len();
        gather
            .write(&mut file, &page(9), frame_offset(1) + FRAME_HEADER as i64)
            .unwrap();
        gather
            .write(&mut file, &frame_header(4, 10), frame_offset(3))
            .unwrap();
        assert_eq!(file.writes.len(), writes + 2);
        assert_eq!(gather.held(), 0);
    }

    #[test]
    fn a_frame_header_without_its_page_is_sent_before_anything_else() {
        let (mut gather, mut file) = after_wal_header();
        gather
            .write(&mut file, &frame_header(1, 5), frame_offset(0))
            .unwrap();
        // Not the page at the next byte: everything held goes first, then this.
        gather.write(&mut file, &[1, 2, 3], 5000).unwrap();
        assert_eq!(file.writes, vec![(0, WAL_HEADER + FRAME_HEADER), (5000, 3)]);
        assert_eq!(gather.held(), 0);
    }

    #[test]
    fn a_wal_started_over_is_held_from_its_header() {
        let (mut gather, mut file) = after_wal_header();
        commit(&mut gather, &mut file, 0, 5);
        gather.write(&mut file, &[8; WAL_HEADER], 0).unwrap();
        commit(&mut gather, &mut file, 0, 2);
        assert_eq!(
            file.writes,
            vec![
                (0, WAL_HEADER + 5 * FRAME as usize),
                (0, WAL_HEADER + 2 * FRAME as usize)
            ]
        );
    }

    #[test]
    fn the_buffer_is_allocated_once_and_never_grows() {
        let mut gather = Gather::default();
        let mut file = File::default();
        assert_eq!(
            gather.held.capacity(),
            0,
            "nothing allocated before a write"
        );
        gather.write(&mut file, &[7; WAL_HEADER], 0).unwrap();
        let capacity = gather.held.capacity();
        assert!(capacity >= CAPACITY);
        // Frames of SQLite's largest page size, past the limit.
        let big = vec![1u8; 65_536];
        let mut at = WAL_HEADER as i64;
        for index in 0..20u32 {
            gather
                .write(&mut file, &frame_header(index + 1, 0), at)
                .unwrap();
            gather.write(&mut file, &big, at + 24).unwrap();
            at += 24 + 65_536;
            assert_eq!(gather.held.capacity(), capacity);
        }
    }

    #[test]
    fn a_long_transaction_is_sent_in_bounded_pieces() {
        let (mut gather, mut file) = after_wal_header();
        let frames = (3 * MAX_HELD as i64) / FRAME;
        commit(&mut gather, &mut file, 0, frames);
        assert!(file.writes.len() >= 3);
        assert!(file
            .writes
            .iter()
            .all(|&(_, len)| len < MAX_HELD + FRAME as usize));
        assert_eq!(gather.held(), 0);
    }

    #[test]
    fn a_failed_write_is_reported_and_its_bytes_dropped() {
        let (mut gather, mut file) = after_wal_header();
        gather
            .write(&mut file, &frame_header(1, 3), frame_offset(0))
            .unwrap();
        file.fail = true;
        assert_eq!(
            gather.write(&mut file, &page(1), frame_offset(0) + 24),
            Err(778)
        );
        assert_eq!(gather.held(), 0);
        file.fail = false;
        gather.flush(&mut file).unwrap();
        assert!(file.writes.is_empty());
    }

    /// One write as SQLite might issue it.
    #[derive(Debug, Clone)]
    enum Op {
        /// A transaction's frames from `first`, `count` of them, committed or not.
        Frames { first: u8, count: u8, commit: bool },
        /// A page rewritten in an earlier frame.
        Rewrite { frame: u8, fill: u8 },
        /// The WAL starting over.
        Restart,
        /// Any other call on the file (a read, a sync...).
        Other,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..40, 1u8..8, any::<bool>()).prop_map(|(first, count, commit)| Op::Frames {
                first,
                count,
                commit
            }),
            (0u8..40, any::<u8>()).prop_map(|(frame, fill)| Op::Rewrite { frame, fill }),
            Just(Op::Restart),
            Just(Op::Other),
        ]
    }

    proptest! {
        /// Whatever the order of writes, the file ends with the same bytes as if each
        /// had been written as it came, and after a commit nothing is held.
        #[test]
        fn the_file_is_what_direct_writes_would_have_made(ops in proptest::collection::vec(op(), 1..40)) {
            let mut gather = Gather::default();
            let mut gathered = File::default();
            let mut direct = File::default();
            for op in ops {
                let mut writes: Vec<(Vec<u8>, i64)> = Vec::new();
                match op {
                    Op::Frames { first, count, commit } => {
                        for index in i64::from(first)..i64::from(first) + i64::from(count) {
                            let last = index == i64::from(first) + i64::from(count) - 1;
                            let size = if commit && last { 40 } else { 0 };
                            writes.push((frame_header(index as u32 + 1, size), frame_offset(index)));
                            writes.push((page(index as u8), frame_offset(index) + 24));
                        }
                    }
                    Op::Rewrite { frame, fill } => {
                        writes.push((page(fill), frame_offset(i64::from(frame)) + 24));
                    }
                    Op::Restart => writes.push((vec![9; WAL_HEADER], 0)),
                    Op::Other => gather.flush(&mut gathered).unwrap(),
                }
                let commits = matches!(op, Op::Frames { commit: true, .. });
                for (bytes, offset) in writes {
                    gather.write(&mut gathered, &bytes, offset).unwrap();
                    direct.write_at(&bytes, offset).unwrap();
                }
                if commits {
                    prop_assert_eq!(gather.held(), 0);
                }
            }
            gather.flush(&mut gathered).unwrap();
            prop_assert_eq!(gathered.bytes, direct.bytes);
        }
    }
}
