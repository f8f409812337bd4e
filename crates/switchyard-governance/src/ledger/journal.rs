//! The ledger writer's journal: every record queued and not yet written (or spilled),
//! so a process killed with records in its queue leaves them for the next start. It is
//! written in segments; each record travels with its segment's number, a closed
//! segment is deleted once all of its records have settled, and the current one is
//! emptied whenever it is all settled, so it stays small under steady load too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::LedgerRecord;
use super::writer::replay_spill;
use crate::GovernanceError;
use crate::ledger::Ledger;

/// Records per journal segment: a segment is deleted once all of its records have left
/// the queue, so under steady load the journal holds about this many.
pub const JOURNAL_SEGMENT_RECORDS: u64 = 10_000;

/// The records queued and not yet written (or spilled): see the module's docs.
#[derive(Debug)]
pub(super) struct Journal {
    path: Option<PathBuf>,
    /// Records per segment ([`JOURNAL_SEGMENT_RECORDS`] but in tests).
    segment_records: u64,
    state: Mutex<JournalState>,
}

#[derive(Debug, Default)]
struct JournalState {
    /// The current segment, at the journal's path; opened on its first record.
    file: Option<std::fs::File>,
    /// The current segment's number.
    segment: u64,
    /// Records appended to and settled from the current segment.
    current: Counts,
    /// Closed segments (renamed to `<journal>.<number>`) with records still queued.
    closed: std::collections::BTreeMap<u64, Counts>,
    /// Set once appending failed, so the failure is logged once.
    failed: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    appended: u64,
    settled: u64,
}

impl Journal {
    pub(super) fn new(path: Option<PathBuf>, segment_records: u64) -> Journal {
        Journal {
            path,
            segment_records: segment_records.max(1),
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JournalState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `record`; returns its segment's number, which settles it.
    pub(super) fn append(&self, record: &LedgerRecord) -> u64 {
        let Some(path) = &self.path else { return 0 };
        let mut state = self.lock();
        if state.current.appended >= self.segment_records {
            self.rotate(&mut state, path);
        }
        let segment = state.segment;
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(_) => return segment,
        };
        line.push(b'\n');
        let appended = (|| -> std::io::Result<()> {
            if state.file.is_none() {
                state.file = Some(crate::private_file::open_append(path)?);
            }
            // One write per line, so a kill cannot interleave two records.
            state
                .file
                .as_mut()
                .map_or(Ok(()), |file| file.write_all(&line))
        })();
        // Counted either way, so the count stays in step with the records settled.
        state.current.appended += 1;
        match appended {
            Ok(()) => {}
            Err(error) if !state.failed => {
                state.failed = true;
                tracing::error!(%error, "Cannot append to the ledger journal; queued records \
                    will not survive the process being killed.");
            }
            Err(_) => {}
        }
        segment
    }

    /// Closes the current segment (renamed aside, kept until its records settle) and
    /// starts the next at the journal's path.
    fn rotate(&self, state: &mut JournalState, path: &Path) {
        state.file = None;
        if let Err(error) = std::fs::rename(path, segment_path(path, state.segment)) {
            tracing::warn!(%error, "Cannot close a ledger journal segment; it keeps growing.");
            return;
        }
        let closed = std::mem::take(&mut state.current);
        state.closed.insert(state.segment, closed);
        state.segment += 1;
    }

    /// `count` records of `segment` left the queue (written, spilled or lost): a closed
    /// segment all settled is deleted, the current one all settled is emptied.
    pub(super) fn settled(&self, segment: u64, count: u64) {
        let Some(path) = &self.path else { return };
        let mut state = self.lock();
        if segment != state.segment {
            let Some(counts) = state.closed.get_mut(&segment) else {
                return;
            };
            counts.settled = (counts.settled + count).min(counts.appended);
            if counts.settled == counts.appended {
                state.closed.remove(&segment);
                if let Err(error) = std::fs::remove_file(segment_path(path, segment)) {
                    tracing::warn!(%error, "Cannot delete a settled ledger journal segment.");
                }
            }
            return;
        }
        let current = &mut state.current;
        current.settled = (current.settled + count).min(current.appended);
        if current.settled == current.appended
            && current.appended > 0
            && let Some(file) = &state.file
        {
            if let Err(error) = file.set_len(0) {
                tracing::warn!(%error, "Cannot empty the ledger journal.");
                return;
            }
            state.current = Counts::default();
        }
    }
}

/// Where closed segment `number` of the journal at `path` waits for its records.
fn segment_path(path: &Path, number: u64) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{number}"));
    path.with_file_name(name)
}

/// Writes the records a previous run left in its journal (every segment of it) to the
/// store, and empties the journal; how many there were.
///
/// # Errors
///
/// The store refused them, or a segment cannot be read or emptied.
pub async fn replay_journal(ledger: &dyn Ledger, path: &Path) -> Result<u64, GovernanceError> {
    let mut replayed = replay_spill(ledger, path).await?;
    let (Some(directory), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(replayed);
    };
    let directory = if directory.as_os_str().is_empty() {
        Path::new(".")
    } else {
        directory
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut segments = Vec::new();
    if let Ok(entries) = std::fs::read_dir(directory) {
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(number) = file_name.strip_prefix(&prefix)
                && !number.is_empty()
                && number.bytes().all(|byte| byte.is_ascii_digit())
            {
                segments.push(entry.path());
            }
        }
    }
    segments.sort();
    for segment in segments {
        replayed += replay_spill(ledger, &segment).await?;
        std::fs::remove_file(&segment)
            .map_err(|error| GovernanceError::Spill(error.to_string()))?;
    }
    Ok(replayed)
}
