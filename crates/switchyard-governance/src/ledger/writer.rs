//! [`LedgerWriter`]: requests hand their records to a bounded queue; one task writes
//! them in batches, so no request waits on the store.
//!
//! A record is never dropped silently:
//! - it is appended to the journal (JSON lines) before it is queued, so a process
//!   killed with records still queued leaves them for the next start (the journal is
//!   not synced to disk per record: it survives the process, not the machine). The
//!   journal is written in segments of [`JOURNAL_SEGMENT_RECORDS`]: each record is
//!   queued with its segment's number, a segment is deleted once all of its records
//!   are written or spilled, and the current one is emptied whenever it is all
//!   settled; so it stays small under steady load too;
//! - a full queue sends it to the spill file (JSON lines) at once;
//! - a batch the store keeps refusing goes there too, after a few tries;
//! - the spill file is written back as soon as the store takes a batch again and the
//!   queue is empty, and what is left of it and of the journal is replayed at the next
//!   start (records already there are skipped by id);
//! - [`LedgerWriter::shutdown`] drains the queue before the process exits.
//!
//! Without a spill file (a server that keeps nothing on disk), such records are
//! counted as lost and logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::GovernanceError;
use crate::ledger::{Ledger, LedgerRecord};

use super::journal::Journal;
pub use super::journal::{JOURNAL_SEGMENT_RECORDS, replay_journal};

#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Records waiting at most; a full queue spills.
    pub capacity: usize,
    /// A batch is written when it has this many records…
    pub batch_rows: usize,
    /// …or when its first record has waited this long.
    pub batch_interval: Duration,
    /// Tries per batch before it is spilled.
    pub attempts: u32,
    pub spill: Option<PathBuf>,
    /// Where queued records wait until written: one file per process.
    pub journal: Option<PathBuf>,
    /// Records per journal segment.
    pub journal_segment_records: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            capacity: 10_000,
            batch_rows: 500,
            batch_interval: Duration::from_millis(200),
            attempts: 3,
            spill: None,
            journal: None,
            journal_segment_records: JOURNAL_SEGMENT_RECORDS,
        }
    }
}

/// What the writer has done since it started.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    pub spilled: AtomicU64,
    /// Records neither written nor spilled (no spill file, or it failed too).
    pub lost: AtomicU64,
    pub failed_batches: AtomicU64,
}

#[derive(Debug)]
pub struct LedgerWriter {
    ledger: Arc<dyn Ledger>,
    options: WriterOptions,
    queue: Mutex<Queue>,
    task: Mutex<Option<JoinHandle<()>>>,
    spill: Arc<Spill>,
    journal: Arc<Journal>,
    stats: Arc<WriterStats>,
}

/// The writing task starts with the first record, on that record's runtime, so a
/// writer can be built anywhere.
#[derive(Debug)]
enum Queue {
    NotStarted,
    /// Each record travels with its journal segment's number.
    Open(mpsc::Sender<(u64, LedgerRecord)>),
    Closed,
}

impl LedgerWriter {
    pub fn new(ledger: Arc<dyn Ledger>, options: WriterOptions) -> LedgerWriter {
        let stats = Arc::new(WriterStats::default());
        let spill = Arc::new(Spill {
            path: options.spill.clone(),
            file: Mutex::new(()),
            pending: std::sync::atomic::AtomicBool::new(false),
            stats: stats.clone(),
        });
        let journal = Arc::new(Journal::new(
            options.journal.clone(),
            options.journal_segment_records,
        ));
        LedgerWriter {
            ledger,
            options,
            queue: Mutex::new(Queue::NotStarted),
            task: Mutex::new(None),
            spill,
            journal,
            stats,
        }
    }

    /// The queue's sender, starting the task if this is the first record; `None` once
    /// closed, or outside a runtime.
    fn sender(&self) -> Option<mpsc::Sender<(u64, LedgerRecord)>> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*queue {
            Queue::Open(sender) => Some(sender.clone()),
            Queue::Closed => None,
            Queue::NotStarted => {
                let runtime = tokio::runtime::Handle::try_current().ok()?;
                let (sender, receiver) = mpsc::channel(self.options.capacity.max(1));
                let task = runtime.spawn(write_batches(
                    self.ledger.clone(),
                    receiver,
                    self.options.clone(),
                    self.spill.clone(),
                    self.journal.clone(),
                    self.stats.clone(),
                ));
                *self
                    .task
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(task);
                *queue = Queue::Open(sender.clone());
                Some(sender)
            }
        }
    }

    /// Journals and queues `record`; never waits. A full or closed queue spills it.
    pub fn record(&self, record: LedgerRecord) {
        let segment = self.journal.append(&record);
        let record = match self.sender() {
            Some(sender) => match sender.try_send((segment, record)) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full((_, record))) => {
                    tracing::warn!("The ledger queue is full; spilling the record to disk.");
                    record
                }
                Err(mpsc::error::TrySendError::Closed((_, record))) => record,
            },
            None => record,
        };
        self.spill.write(std::slice::from_ref(&record));
        self.journal.settled(segment, 1);
    }

    /// Closes the queue and waits until everything queued is written (or spilled).
    /// Records that come later are spilled.
    pub async fn shutdown(&self) {
        *self
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Queue::Closed;
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "The ledger writer failed.");
        }
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

/// Writes the records a previous run spilled (or was writing back when it stopped),
/// then empties the file.
pub async fn replay_spill(ledger: &dyn Ledger, path: &Path) -> Result<u64, GovernanceError> {
    let mut replayed = 0;
    for file in [replaying_path(path), path.to_path_buf()] {
        let text = match tokio::fs::read_to_string(&file).await {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(GovernanceError::Spill(error.to_string())),
        };
        let records = parse_lines(&text);
        for chunk in records.chunks(500) {
            ledger.append(chunk).await?;
        }
        tokio::fs::write(&file, b"")
            .await
            .map_err(|error| GovernanceError::Spill(error.to_string()))?;
        replayed += records.len() as u64;
    }
    Ok(replayed)
}

/// Where spilled records wait while the writer writes them back.
fn replaying_path(spill: &Path) -> PathBuf {
    let mut name = spill.file_name().unwrap_or_default().to_os_string();
    name.push(".replaying");
    spill.with_file_name(name)
}

/// The records of a JSON-lines file; a line cut short by a crash is skipped, the rest
/// are still good.
fn parse_lines(text: &str) -> Vec<LedgerRecord> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .filter_map(|(number, line)| {
            serde_json::from_str::<LedgerRecord>(line)
                .map_err(|error| {
                    tracing::warn!(
                        line = number + 1,
                        %error,
                        "Skipping an unreadable line of a ledger spill file."
                    );
                })
                .ok()
        })
        .collect()
}

async fn write_batches(
    ledger: Arc<dyn Ledger>,
    mut receiver: mpsc::Receiver<(u64, LedgerRecord)>,
    options: WriterOptions,
    spill: Arc<Spill>,
    journal: Arc<Journal>,
    stats: Arc<WriterStats>,
) {
    let mut batch = Vec::with_capacity(options.batch_rows);
    let mut segments = Vec::with_capacity(options.batch_rows);
    loop {
        // Wait for a first record, then gather more until the batch is full or has
        // waited long enough.
        let Some((segment, first)) = receiver.recv().await else {
            return;
        };
        batch.push(first);
        segments.push(segment);
        let deadline = tokio::time::Instant::now() + options.batch_interval;
        while batch.len() < options.batch_rows {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some((segment, record))) => {
                    batch.push(record);
                    segments.push(segment);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let written = write_batch(ledger.as_ref(), &batch, &options, &spill, &stats).await;
        // Records leave the queue in order, so a batch holds a run of each segment.
        for run in segments.chunk_by(|a, b| a == b) {
            journal.settled(run[0], run.len() as u64);
        }
        batch.clear();
        segments.clear();
        // Caught up with a store that takes writes again: what was spilled meanwhile
        // goes in now rather than at the next start.
        if written && receiver.is_empty() {
            write_back_spill(ledger.as_ref(), &options, &spill, &stats).await;
        }
    }
}

async fn write_batch(
    ledger: &dyn Ledger,
    batch: &[LedgerRecord],
    options: &WriterOptions,
    spill: &Spill,
    stats: &WriterStats,
) -> bool {
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=options.attempts.max(1) {
        match ledger.append(batch).await {
            Ok(()) => {
                stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                return true;
            }
            Err(error) => {
                stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, attempt, rows = batch.len(), "Cannot write to the ledger.");
                if attempt < options.attempts {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    spill.write(batch);
    false
}

/// Writes the spill file's records back to the store. The file is first renamed aside,
/// so records spilled meanwhile start a new one, and a process stopped halfway leaves
/// the renamed file for [`replay_spill`]. Records that fail again are spilled again.
async fn write_back_spill(
    ledger: &dyn Ledger,
    options: &WriterOptions,
    spill: &Spill,
    stats: &WriterStats,
) {
    let Some((path, records)) = spill.take() else {
        return;
    };
    for chunk in records.chunks(options.batch_rows.max(1)) {
        write_batch(ledger, chunk, options, spill, stats).await;
    }
    if let Err(error) = std::fs::remove_file(&path) {
        tracing::warn!(%error, "Cannot remove the ledger spill file written back.");
    }
    tracing::info!(
        records = records.len(),
        "Wrote spilled ledger records back to the store."
    );
}

#[derive(Debug)]
struct Spill {
    path: Option<PathBuf>,
    /// One writer at a time, so lines never interleave.
    file: Mutex<()>,
    /// Records were spilled since the file was last written back.
    pending: std::sync::atomic::AtomicBool,
    stats: Arc<WriterStats>,
}

impl Spill {
    /// Moves the spill file aside and reads it: the renamed file and its records, or
    /// `None` when nothing was spilled (or a file from an earlier run still waits for
    /// the next start's [`replay_spill`]).
    fn take(&self) -> Option<(PathBuf, Vec<LedgerRecord>)> {
        let path = self.path.as_ref()?;
        if !self.pending.swap(false, Ordering::AcqRel) {
            return None;
        }
        let aside = replaying_path(path);
        let text = {
            let _one_writer = self
                .file
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if aside.exists() {
                return None;
            }
            std::fs::rename(path, &aside)
                .and_then(|()| std::fs::read_to_string(&aside))
                .map_err(|error| tracing::warn!(%error, "Cannot read the ledger spill file back."))
                .ok()?
        };
        Some((aside, parse_lines(&text)))
    }

    fn write(&self, records: &[LedgerRecord]) {
        let count = records.len() as u64;
        let Some(path) = &self.path else {
            self.stats.lost.fetch_add(count, Ordering::Relaxed);
            tracing::error!(
                records = count,
                "Ledger records lost: the store cannot take them and no spill file is set."
            );
            return;
        };
        let _one_writer = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = (|| -> std::io::Result<()> {
            let mut file = crate::private_file::open_append(path)?;
            let mut lines = Vec::new();
            for record in records {
                serde_json::to_writer(&mut lines, record)?;
                lines.push(b'\n');
            }
            file.write_all(&lines)?;
            file.sync_data()
        })();
        match written {
            Ok(()) => {
                self.stats.spilled.fetch_add(count, Ordering::Relaxed);
                self.pending.store(true, Ordering::Release);
            }
            Err(error) => {
                self.stats.lost.fetch_add(count, Ordering::Relaxed);
                tracing::error!(%error, records = count, "Ledger records lost: the spill file failed.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;
    use crate::conformance::record;
    use crate::ledger::{UsageQuery, UsageRow};
    use crate::limiter::SpendSource;
    use crate::model::{MicroUsd, Scope};
    use crate::period::Window;

    /// Records in a vector, once per id; refuses writes while `down`.
    #[derive(Debug, Default)]
    struct VecLedger {
        records: Mutex<Vec<LedgerRecord>>,
        batches: AtomicU64,
        down: AtomicBool,
    }

    #[async_trait::async_trait]
    impl SpendSource for VecLedger {
        async fn spent(&self, _: &Scope, _: Window) -> Result<MicroUsd, GovernanceError> {
            Ok(0)
        }
    }

    #[async_trait::async_trait]
    impl Ledger for VecLedger {
        async fn append(&self, records: &[LedgerRecord]) -> Result<(), GovernanceError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(GovernanceError::Unavailable("down".into()));
            }
            self.batches.fetch_add(1, Ordering::SeqCst);
            let mut stored = self.records.lock().expect("not poisoned");
            for record in records {
                if !stored.iter().any(|old| old.id == record.id) {
                    stored.push(record.clone());
                }
            }
            Ok(())
        }
        async fn usage(&self, _: &UsageQuery) -> Result<Vec<UsageRow>, GovernanceError> {
            Ok(vec![])
        }
        async fn records(
            &self,
            _: &UsageQuery,
            _: u32,
        ) -> Result<Vec<LedgerRecord>, GovernanceError> {
            Ok(self.records.lock().expect("not poisoned").clone())
        }
    }

    fn numbered(n: usize) -> LedgerRecord {
        record(&format!("r{n}"), Some("key_a"), "smollm2", n as i64, 1)
    }

    #[tokio::test]
    async fn records_are_written_in_batches_and_drained_on_shutdown() {
        let ledger = Arc::new(VecLedger::default());
        let writer = LedgerWriter::new(
            ledger.clone(),
            WriterOptions {
                batch_rows: 100,
                batch_interval: Duration::from_secs(3600),
                ..WriterOptions::default()
            },
        );
        for n in 0..250 {
            writer.record(numbered(n));
        }
        writer.shutdown().await;
        let stored = ledger.records.lock().expect("not poisoned").len();
        assert_eq!(stored, 250);
        assert_eq!(ledger.batches.load(Ordering::SeqCst), 3, "100 + 100 + 50");
        assert_eq!(writer.stats().written.load(Ordering::SeqCst), 250);
        writer.record(numbered(999));
        assert_eq!(
            writer.stats().lost.load(Ordering::SeqCst),
            1,
            "after shutdown, with no spill file, a record is counted as lost"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_batch_goes_out_after_the_interval() {
        let ledger = Arc::new(VecLedger::default());
        let writer = LedgerWriter::new(ledger.clone(), WriterOptions::default());
        writer.record(numbered(1));
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(ledger.batches.load(Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ledger.batches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_stays_down_spills_and_the_spill_is_replayed_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let spill = dir.path().join("ledger-spill.jsonl");
        let ledger = Arc::new(VecLedger::default());
        ledger.down.store(true, Ordering::SeqCst);
        let writer = LedgerWriter::new(
            ledger.clone(),
            WriterOptions {
                spill: Some(spill.clone()),
                ..WriterOptions::default()
            },
        );
        for n in 0..3 {
            writer.record(numbered(n));
        }
        writer.shutdown().await;
        assert_eq!(writer.stats().spilled.load(Ordering::SeqCst), 3);
        assert_eq!(writer.stats().failed_batches.load(Ordering::SeqCst), 3);

        ledger.down.store(false, Ordering::SeqCst);
        // A torn last line (a crash mid-write) is skipped, the rest replayed.
        let mut text = std::fs::read_to_string(&spill).expect("reads");
        text.push_str("{\"id\":\"torn");
        std::fs::write(&spill, text).expect("writes");
        assert_eq!(
            replay_spill(ledger.as_ref(), &spill)
                .await
                .expect("replays"),
            3
        );
        assert_eq!(
            replay_spill(ledger.as_ref(), &spill)
                .await
                .expect("replays"),
            0
        );
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 3);
    }

    #[tokio::test]
    async fn a_full_queue_spills_instead_of_waiting() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let spill = dir.path().join("spill.jsonl");
        let ledger = Arc::new(VecLedger::default());
        // On a current-thread runtime the writer cannot run while this test does not
        // yield, so the queue of 2 fills.
        let writer = LedgerWriter::new(
            ledger.clone(),
            WriterOptions {
                capacity: 2,
                spill: Some(spill.clone()),
                ..WriterOptions::default()
            },
        );
        for n in 0..5 {
            writer.record(numbered(n));
        }
        assert_eq!(writer.stats().spilled.load(Ordering::SeqCst), 3);
        writer.shutdown().await;
        replay_spill(ledger.as_ref(), &spill)
            .await
            .expect("replays");
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 5);
    }

    #[tokio::test]
    async fn queued_records_wait_in_the_journal_until_written() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let journal = dir.path().join("ledger-journal.jsonl");
        let ledger = Arc::new(VecLedger::default());
        let options = WriterOptions {
            batch_interval: Duration::from_secs(3600),
            journal: Some(journal.clone()),
            ..WriterOptions::default()
        };
        // A process killed with records queued: they are in its journal, and the next
        // start writes them once.
        let killed = LedgerWriter::new(ledger.clone(), options.clone());
        for n in 0..3 {
            killed.record(numbered(n));
        }
        let lines = std::fs::read_to_string(&journal).expect("reads");
        assert_eq!(lines.lines().count(), 3, "{lines}");
        // Killed: its task never gets to write (its batch waits an hour).
        std::mem::forget(killed);
        assert_eq!(
            replay_spill(ledger.as_ref(), &journal)
                .await
                .expect("replays"),
            3
        );
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 3);

        // Once written, the journal is emptied.
        let writer = LedgerWriter::new(ledger.clone(), options);
        for n in 3..6 {
            writer.record(numbered(n));
        }
        writer.shutdown().await;
        assert_eq!(std::fs::read_to_string(&journal).expect("reads"), "");
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 6);
    }

    #[tokio::test]
    async fn the_journal_stays_small_under_steady_load_and_a_kill_loses_no_segment() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let journal = dir.path().join("ledger-journal.jsonl");
        let ledger = Arc::new(VecLedger::default());
        let options = WriterOptions {
            journal: Some(journal.clone()),
            journal_segment_records: 10,
            batch_rows: 7,
            batch_interval: Duration::from_millis(1),
            ..WriterOptions::default()
        };
        // Steady load: records keep arriving while batches are written, so the journal
        // is never all settled at once; closed segments go as their records do.
        let writer = LedgerWriter::new(ledger.clone(), options.clone());
        for n in 0..200 {
            writer.record(numbered(n));
            if n % 5 == 0 {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        writer.shutdown().await;
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 200);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files,
            ["ledger-journal.jsonl"],
            "closed segments are deleted"
        );
        assert_eq!(std::fs::read_to_string(&journal).expect("reads"), "");

        // A kill with three segments' worth queued: every segment is replayed once.
        let killed = LedgerWriter::new(
            ledger.clone(),
            WriterOptions {
                batch_interval: Duration::from_secs(3600),
                batch_rows: 1000,
                ..options
            },
        );
        for n in 200..225 {
            killed.record(numbered(n));
        }
        std::mem::forget(killed);
        assert_eq!(
            replay_journal(ledger.as_ref(), &journal)
                .await
                .expect("replays"),
            25
        );
        assert_eq!(ledger.records.lock().expect("not poisoned").len(), 225);
        let files = std::fs::read_dir(dir.path()).expect("lists").count();
        assert_eq!(files, 1, "replayed segments are gone");
    }

    #[tokio::test(start_paused = true)]
    async fn records_spilled_while_the_store_was_down_go_back_once_it_recovers() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let spill = dir.path().join("ledger-spill.jsonl");
        let ledger = Arc::new(VecLedger::default());
        ledger.down.store(true, Ordering::SeqCst);
        let writer = LedgerWriter::new(
            ledger.clone(),
            WriterOptions {
                spill: Some(spill.clone()),
                ..WriterOptions::default()
            },
        );
        for n in 0..3 {
            writer.record(numbered(n));
        }
        // The batch goes out after 200 ms and fails three times (100 + 200 ms apart).
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(writer.stats().spilled.load(Ordering::SeqCst), 3);
        assert!(ledger.records.lock().expect("not poisoned").is_empty());

        ledger.down.store(false, Ordering::SeqCst);
        writer.record(numbered(3));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut ids: Vec<String> = ledger
            .records
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|record| record.id.clone())
            .collect();
        ids.sort();
        assert_eq!(ids, ["r0", "r1", "r2", "r3"]);
        assert!(!spill.exists(), "the spill file was written back");
        writer.shutdown().await;
        assert_eq!(
            replay_spill(ledger.as_ref(), &spill)
                .await
                .expect("replays"),
            0
        );
    }
}
