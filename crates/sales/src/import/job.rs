//! Progress of imports running in this process, readable while they run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// How far an import has got: rows read and checked, then rows written.
#[derive(Debug, Default)]
pub struct ImportProgress {
    total_rows: AtomicUsize,
    processed_rows: AtomicUsize,
}

impl ImportProgress {
    /// A tracker shared between the import and whoever reports on it.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Rows expected (an estimate until the file has been read).
    pub fn total(&self) -> usize {
        self.total_rows.load(Ordering::Relaxed)
    }

    /// Rows done so far.
    pub fn processed(&self) -> usize {
        self.processed_rows.load(Ordering::Relaxed)
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
