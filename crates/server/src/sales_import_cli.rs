//! `meridian import sales FILE --org ORG`: the sales-data import of the API, from a
//! shell; and the watched folder that `meridian serve` imports on a schedule.
//!
//! Both go through the same service as `POST /api/v1/sales/imports`
//! ([`sales::import::SalesImporter`]): same mapping, rules, all-or-nothing commit and
//! idempotent re-import. The command prints a summary and every bad cell as
//! `row N, column C: reason`, and exits non-zero when the file is rejected.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use kernel::TenantContext;
use sales::import::{
    FileFormat, ImportFile, ImportOptions, ImportProgress, SHEET6, SalesImport, SalesImporter,
};

/// `meridian import sales`.
#[derive(Debug, Args)]
pub struct ImportSalesArgs {
    /// The CSV or XLSX file (one row per outlet × SKU × day).
    pub file: PathBuf,
    /// Organisation id or slug.
    #[arg(long)]
    pub org: String,
    /// Column mapping: `sheet6` (built in) or a saved mapping's name.
    #[arg(long, default_value = SHEET6)]
    pub mapping: String,
    /// Validate and report only; nothing is written (but the import log row).
    #[arg(long)]
    pub dry_run: bool,
    /// Import the valid rows and report the others (default: all or nothing).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Accept regions and pack types the organisation does not know yet (reported as
    /// warnings) instead of refusing them as typos.
    #[arg(long)]
    pub allow_new_values: bool,
}

/// Why a sales import command failed.
#[derive(Debug, thiserror::Error)]
pub enum SalesImportCliError {
    /// The file cannot be read from disk.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a .csv or .xlsx file.
    #[error("{0}: only .csv and .xlsx files can be imported")]
    Format(PathBuf),
    /// The import refused the file or failed.
    #[error("{0}")]
    Import(String),
    /// The file has bad rows: nothing was imported.
    #[error("{0}: rejected, nothing was imported")]
    Rejected(String),
}

fn problem_text(err: sales::SalesError) -> String {
    let problem = kernel::Problem::from(err);
    let mut message = problem.detail.unwrap_or(problem.title);
    for e in &problem.errors {
        message.push_str(&format!("; {}: {}", e.field, e.message));
    }
    message
}

/// Reads `path` as an import file.
pub fn read_file(path: &Path) -> Result<ImportFile, SalesImportCliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = FileFormat::from_file_name(&name)
        .ok_or_else(|| SalesImportCliError::Format(path.into()))?;
    let bytes = std::fs::read(path).map_err(|source| SalesImportCliError::Read {
        path: path.into(),
        source,
    })?;
    Ok(ImportFile {
        name,
        format,
        bytes: bytes.into(),
    })
}

/// The report as the command prints it: a summary, then every bad cell.
pub fn render(import: &SalesImport) -> String {
    let mut out = String::new();
    let period = match (import.period_from, import.period_to) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "none".to_owned(),
    };
    out.push_str(&format!(
        "import {}: {} ({} rows, {} invalid, {} inserted, {} replaced, period {}, mapping {}{})\n",
        import.id,
        import.status,
        import.rows_total,
        import.rows_invalid,
        import.rows_inserted,
        import.rows_replaced,
        period,
        import.mapping,
        if import.dry_run { ", dry run" } else { "" }
    ));
    if let Some(earlier) = import.same_file_as {
        out.push_str(&format!(
            "note: the same file was imported before (import {earlier}); its rows were replaced, not added again\n"
        ));
    }
    for e in &import.errors {
        out.push_str(&format!(
            "row {}, column {}: {}\n",
            e.row, e.column, e.reason
        ));
    }
    for w in &import.warnings {
        out.push_str(&format!(
            "warning: row {}, column {}: {}\n",
            w.row, w.column, w.reason
        ));
    }
    out
}

/// Runs `meridian import sales`: prints the report; a rejected file is an error (exit
/// status 1) after the report.
pub async fn run(
    importer: &SalesImporter,
    org: uuid::Uuid,
    args: &ImportSalesArgs,
) -> Result<(), SalesImportCliError> {
    let file = read_file(&args.file)?;
    let large = file.bytes.len() > 4 * 1024 * 1024;
    let options = ImportOptions {
        mapping: args.mapping.clone(),
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        allow_new_values: args.allow_new_values,
        source: "cli",
    };
    let progress = ImportProgress::shared();
    let reporter = large.then(|| tokio::spawn(report_progress(progress.clone())));
    let ctx = TenantContext::system(org);
    let outcome = importer.import(&ctx, file, options, Some(progress)).await;
    if let Some(reporter) = reporter {
        reporter.abort();
        eprintln!();
    }
    let import = outcome.map_err(|e| SalesImportCliError::Import(problem_text(e)))?;
    print!("{}", render(&import));
    if import.is_rejected() {
        let why = if import.rows_invalid > 0 {
            format!(
                "{} of {} rows are invalid",
                import.rows_invalid, import.rows_total
            )
        } else {
            "the file does not fit the mapping".to_owned()
        };
        return Err(SalesImportCliError::Rejected(why));
    }
    Ok(())
}

/// Progress on stderr while a large file imports: a line that rewrites itself on a
/// terminal, a line every few seconds otherwise (logs).
async fn report_progress(progress: Arc<ImportProgress>) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(5)
    };
    loop {
        tokio::time::sleep(every).await;
        // Half the work is reading and checking the rows, half writing them.
        let (done, rows) = (progress.processed_as_rows(), progress.rows());
        let percent = done as f64 * 100.0 / rows.max(1) as f64;
        if terminal {
            eprint!("\rimporting: {done} of {rows} rows ({percent:.0}%)   ");
        } else {
            eprintln!("importing: {done} of {rows} rows ({percent:.0}%)");
        }
    }
}

/// The watched folder of `meridian serve`.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// The folder; imported files move to `done/` or `rejected/` beside a report.
    pub dir: PathBuf,
    /// The organisation the files belong to.
    pub org: uuid::Uuid,
    /// Time between scans.
    pub interval: Duration,
    /// Mapping of the files.
    pub mapping: String,
}

/// Imports every `.csv`/`.xlsx` file of the folder, then again every `interval`, until
/// the process stops. A file is taken once its size has not changed between two scans
/// (so one still being copied in is left alone).
pub async fn watch_folder(importer: SalesImporter, settings: WatchSettings) {
    let mut sizes: std::collections::HashMap<PathBuf, u64> = std::collections::HashMap::new();
    loop {
        match scan_once(&importer, &settings, &mut sizes).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(files = n, dir = %settings.dir.display(), "imported watched sales files")
            }
            Err(e) => {
                tracing::warn!(error = %e, dir = %settings.dir.display(), "cannot scan the sales watch folder")
            }
        }
        tokio::time::sleep(settings.interval).await;
    }
}

/// One scan of the watched folder; returns how many files were processed. `sizes`
/// remembers the sizes seen at the previous scan.
pub async fn scan_once(
    importer: &SalesImporter,
    settings: &WatchSettings,
    sizes: &mut std::collections::HashMap<PathBuf, u64>,
) -> std::io::Result<usize> {
    let mut ready = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&settings.dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || FileFormat::from_file_name(&name).is_none() {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        if sizes.get(&path) == Some(&meta.len()) {
            ready.push(path.clone());
        }
        seen.insert(path, meta.len());
    }
    *sizes = seen;
    ready.sort();
    for path in &ready {
        sizes.remove(path);
        process_watched(importer, settings, path).await?;
    }
    Ok(ready.len())
}

async fn process_watched(
    importer: &SalesImporter,
    settings: &WatchSettings,
    path: &Path,
) -> std::io::Result<()> {
    let ctx = TenantContext::system(settings.org);
    let options = ImportOptions {
        mapping: settings.mapping.clone(),
        source: "watch",
        ..ImportOptions::default()
    };
    let (folder, report) = match read_file(path) {
        Err(e) => ("rejected", serde_json::json!({"error": e.to_string()})),
        Ok(file) => match importer.import(&ctx, file, options, None).await {
            Ok(import) => {
                let folder = if import.status == "committed" {
                    "done"
                } else {
                    "rejected"
                };
                (
                    folder,
                    serde_json::to_value(import.truncated()).unwrap_or_default(),
                )
            }
            Err(sales::SalesError::Db(e)) => {
                // The database is away: leave the file for the next scan.
                tracing::warn!(error = %e, file = %path.display(), "sales watch import failed; will retry");
                return Ok(());
            }
            Err(e) => ("rejected", serde_json::json!({"error": problem_text(e)})),
        },
    };
    let target_dir = settings.dir.join(folder);
    std::fs::create_dir_all(&target_dir)?;
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let target = target_dir.join(&name);
    std::fs::rename(path, &target)?;
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    std::fs::write(target_dir.join(format!("{name}.report.json")), text)?;
    tracing::info!(file = %name, outcome = folder, "watched sales file processed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_bad_cell_as_row_and_column() {
        let import = SalesImport {
            id: uuid::Uuid::nil(),
            file_name: "f.csv".to_owned(),
            file_sha256: String::new(),
            mapping: "sheet6".to_owned(),
            source: "cli".to_owned(),
            status: "rejected".to_owned(),
            dry_run: false,
            skip_invalid: false,
            rows_total: 3,
            rows_invalid: 1,
            rows_inserted: 0,
            rows_replaced: 0,
            period_from: None,
            period_to: None,
            processed_rows: 3,
            errors: vec![sales::import::RowIssue {
                row: 3,
                column: "Sales Qty".to_owned(),
                reason: "`x` is not a number".to_owned(),
            }],
            errors_truncated: false,
            warnings: vec![],
            same_file_as: None,
            failure: None,
            created_at: chrono::Utc::now(),
            finished_at: None,
        };
        let text = render(&import);
        assert!(text.contains("rejected (3 rows, 1 invalid"), "{text}");
        assert!(
            text.ends_with("row 3, column Sales Qty: `x` is not a number\n"),
            "{text}"
        );
    }
}
