//! Progress of imports running in this process, readable while they run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// How far an import has got, in units of work: reading and checking a row is one,
/// writing a fact another; `rows` is the file's row count (an estimate until read).
#[derive(Debug, Default)]
pub struct ImportProgress {
    rows: AtomicUsize,
    total_rows: AtomicUsize,
    processed_rows: AtomicUsize,
}

impl ImportProgress {
    /// A tracker shared between the import and whoever reports on it.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Data rows of the file (an estimate until the file has been read).
    pub fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }

    /// The work done so far, as rows of the file: `rows()` once finished.
    pub fn processed_as_rows(&self) -> usize {
        let total = self.total().max(1);
        let done = self.processed().min(total);
        (done as u128 * self.rows() as u128 / total as u128) as usize
    }

    /// Units of work expected.
    pub fn total(&self) -> usize {
        self.total_rows.load(Ordering::Relaxed)
    }

    /// Units of work done so far.
    pub fn processed(&self) -> usize {
        self.processed_rows.load(Ordering::Relaxed)
    }

    pub(crate) fn set_rows(&self, rows: usize) {
        self.rows.store(rows, Ordering::Relaxed);
    }

    pub(crate) fn set_total(&self, rows: usize) {
        self.total_rows.store(rows, Ordering::Relaxed);
    }

    pub(crate) fn set_processed(&self, rows: usize) {
        self.processed_rows.store(rows, Ordering::Relaxed);
    }
}

/// Imports running in this process: import id → progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunningImports(Arc<Mutex<HashMap<Uuid, Arc<ImportProgress>>>>);

impl RunningImports {
    pub(crate) fn insert(&self, id: Uuid, progress: Arc<ImportProgress>) {
        if let Ok(mut running) = self.0.lock() {
            running.insert(id, progress);
        }
    }

    pub(crate) fn remove(&self, id: Uuid) {
        if let Ok(mut running) = self.0.lock() {
            running.remove(&id);
        }
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<Arc<ImportProgress>> {
        self.0.lock().ok().and_then(|r| r.get(&id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_reported_in_rows_of_the_file() {
        let p = ImportProgress::default();
        p.set_rows(1_000);
        // Read and checked: half the work (writing the facts is the other half).
        p.set_total(2_000);
        p.set_processed(1_000);
        assert_eq!(p.processed_as_rows(), 500);
        p.set_processed(2_000);
        assert_eq!(p.processed_as_rows(), 1_000);
    }
}
