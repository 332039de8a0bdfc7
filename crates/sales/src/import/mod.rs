//! Importing distributors' sales data (issue 7, part 2) from CSV or XLSX.
//!
//! A file is read row by row ([`read`]), its columns found through a mapping
//! ([`mapping`]: the built-in `sheet6` or a saved one), and every row checked
//! ([`validate`]); every bad cell is reported as `row N, column C: reason` with N the
//! spreadsheet's own row number (header = row 1). Nothing is written unless every row is
//! valid, or the caller asked to skip bad rows; then the facts, their dimensions and the
//! rollups of the touched days are written in one transaction, with one audit row and one
//! `sales.data_imported` event. Facts are keyed by outlet × SKU × day, so importing the
//! same file (or period) again replaces the rows instead of doubling the sales; the
//! file's SHA-256 is recorded and a repeat is pointed out. Every import, dry runs and
//! rejections included, leaves a row in `sales_imports`. See docs/sales/import.md.

pub mod job;
pub mod mapping;
pub mod read;
pub mod validate;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::audit;
use kernel::list::{FieldKind, FieldSpec, ListSpec, Page};
use kernel::{Db, FieldError, SharedClock, TenantContext, Tx, bind_values, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::facts;
use crate::model::SalesError;
pub use job::ImportProgress;
use job::RunningImports;
pub use mapping::{ColumnMapping, DateFormat, Layout, SHEET6};
pub use read::FileFormat;
pub use validate::RowIssue;
use validate::{Reference, Validated, Validator};

/// Errors kept in a stored report and sent in a response; the CLI prints them all.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// A file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// Its name, for the log (`upload.csv` when the client sent none).
    pub name: String,
    /// CSV or XLSX.
    pub format: FileFormat,
    /// Its bytes (cheap to clone: shared, not copied).
    pub bytes: axum::body::Bytes,
}

/// How to run an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The mapping's name: `sheet6` or a saved one.
    pub mapping: String,
    /// Validate and report only.
    pub dry_run: bool,
    /// Import the valid rows and report the others (default: all or nothing).
    pub skip_invalid: bool,
    /// Accept regions and pack types outside the organisation's reference list (each
    /// reported once as a warning) instead of refusing them as typos.
    pub allow_new_values: bool,
    /// Where the file came from: `api`, `cli` or `watch`.
    pub source: &'static str,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            mapping: SHEET6.to_owned(),
            dry_run: false,
            skip_invalid: false,
            allow_new_values: false,
            source: "api",
        }
    }
}

/// One sales-data import: what came in and what happened (`Single<SalesImport>`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SalesImport {
    /// Id.
    pub id: Uuid,
    /// The file's name.
    pub file_name: String,
    /// SHA-256 of the file (hex).
    pub file_sha256: String,
    /// The mapping used.
    pub mapping: String,
    /// `api`, `cli` or `watch`.
    pub source: String,
    /// `validated` (a dry run that would commit), `rejected` (bad rows and no
    /// `skip_invalid`, or an unusable file: nothing written), `committed`, `running`
    /// (background) or `failed` (an unexpected error; nothing written).
    pub status: String,
    /// Nothing is written.
    pub dry_run: bool,
    /// Valid rows are imported even when others are bad.
    pub skip_invalid: bool,
    /// Data rows in the file.
    pub rows_total: u64,
    /// Rows with at least one error.
    pub rows_invalid: u64,
    /// Facts that were new.
    pub rows_inserted: u64,
    /// Facts that replaced an earlier import's (same outlet, SKU and day).
    pub rows_replaced: u64,
    /// First day of the valid rows.
    pub period_from: Option<NaiveDate>,
    /// Last day of the valid rows.
    pub period_to: Option<NaiveDate>,
    /// Rows read, checked and written so far (= `rows_total` once finished).
    pub processed_rows: u64,
    /// Every bad cell, in row order (the first 1,000 when `errors_truncated`).
    pub errors: Vec<RowIssue>,
    /// More errors than listed.
    pub errors_truncated: bool,
    /// Accepted new regions or pack types (`allow_new_values`).
    pub warnings: Vec<RowIssue>,
    /// An earlier committed import of the very same file (same SHA-256); importing it
    /// again replaced its rows, nothing doubled.
    pub same_file_as: Option<Uuid>,
    /// Why a background import failed (status `failed`: an unreadable file, a database
    /// error); nothing was written.
    pub failure: Option<String>,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl SalesImport {
    /// The report as stored and sent: at most [`MAX_REPORTED_ERRORS`] errors.
    pub fn truncated(mut self) -> Self {
        if self.errors.len() > MAX_REPORTED_ERRORS {
            self.errors.truncate(MAX_REPORTED_ERRORS);
            self.errors_truncated = true;
        }
        self
    }

    /// Rejected: nothing was (or would be) written because of bad rows.
    pub fn is_rejected(&self) -> bool {
        self.status == "rejected"
    }
}

/// What `sales_imports.report` holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredReport {
    #[serde(default)]
    errors: Vec<RowIssue>,
    #[serde(default)]
    errors_truncated: bool,
    #[serde(default)]
    warnings: Vec<RowIssue>,
    #[serde(default)]
    same_file_as: Option<Uuid>,
    #[serde(default)]
    failure: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: Uuid,
    file_name: String,
    file_sha256: String,
    mapping_name: String,
    source: String,
    status: String,
    dry_run: bool,
    skip_invalid: bool,
    rows_total: i64,
    rows_invalid: i64,
    rows_inserted: i64,
    rows_replaced: i64,
    period_from: Option<i32>,
    period_to: Option<i32>,
    report: Option<Json<StoredReport>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

const IMPORT_COLUMNS: &str = "id, file_name, file_sha256, mapping_name, source, status, dry_run, skip_invalid, \
     rows_total, rows_invalid, rows_inserted, rows_replaced, period_from, period_to, report, created_at, finished_at";

impl From<ImportRow> for SalesImport {
    fn from(r: ImportRow) -> Self {
        let report = r.report.map(|j| j.0).unwrap_or_default();
        let finished = r.finished_at.is_some();
        SalesImport {
            id: r.id,
            file_name: r.file_name,
            file_sha256: r.file_sha256,
            mapping: r.mapping_name,
            source: r.source,
            status: r.status,
            dry_run: r.dry_run,
            skip_invalid: r.skip_invalid,
            rows_total: r.rows_total.max(0) as u64,
            rows_invalid: r.rows_invalid.max(0) as u64,
            rows_inserted: r.rows_inserted.max(0) as u64,
            rows_replaced: r.rows_replaced.max(0) as u64,
            period_from: r.period_from.map(facts::date_of_day),
            period_to: r.period_to.map(facts::date_of_day),
            processed_rows: if finished {
                r.rows_total.max(0) as u64
            } else {
                0
            },
            errors: report.errors,
            errors_truncated: report.errors_truncated,
            warnings: report.warnings,
            same_file_as: report.same_file_as,
            failure: report.failure,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

const IMPORT_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "status",
        column: "status",
        kind: FieldKind::Text,
        sortable: false,
        filterable: true,
    },
    FieldSpec {
        name: "created_at",
        column: "created_at",
        kind: FieldKind::Timestamp,
        sortable: true,
        filterable: true,
    },
];

/// What `GET /api/v1/sales/imports` accepts.
pub const IMPORT_LIST: ListSpec = ListSpec {
    fields: IMPORT_FIELDS,
    default_sort: "-created_at",
    default_limit: 20,
    max_limit: 100,
    id_column: "id",
};

/// A column mapping as the API shows it (`sheet6` is built in: no id, read-only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SalesImportMapping {
    /// Id (`null` for the built-in `sheet6`).
    pub id: Option<Uuid>,
    /// Name, unique in the organisation; `?mapping=` of an import.
    pub name: String,
    /// Built in and read-only.
    pub built_in: bool,
    /// Field → header of the file.
    pub columns: ColumnMapping,
    /// How text dates are written (`yyyy-mm-dd`, `dd/mm/yyyy` or `mm/dd/yyyy`).
    pub date_format: DateFormat,
    /// Version, for `If-Match` (0 for the built-in).
    pub version: i64,
    /// Created (`null` for the built-in).
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/sales/import-mappings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewSalesImportMapping {
    /// Name.
    pub name: String,
    /// Field → header of the file; every field is required.
    pub columns: ColumnMapping,
    /// How text dates are written (default `yyyy-mm-dd`).
    #[serde(default)]
    pub date_format: Option<DateFormat>,
}

/// `PATCH /api/v1/sales/import-mappings/{id}`: fields present are set.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SalesImportMappingPatch {
    /// Name.
    pub name: Option<String>,
    /// Field → header.
    pub columns: Option<ColumnMapping>,
    /// Date format.
    pub date_format: Option<DateFormat>,
    /// Version read (or `If-Match`).
    pub version: Option<i64>,
}

/// What `sales_import_mappings.columns` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredMapping {
    #[serde(flatten)]
    columns: ColumnMapping,
    #[serde(default)]
    date_format: DateFormat,
}

#[derive(sqlx::FromRow)]
struct MappingRow {
    id: Uuid,
    name: String,
    columns: Json<StoredMapping>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<MappingRow> for SalesImportMapping {
    fn from(r: MappingRow) -> Self {
        SalesImportMapping {
            id: Some(r.id),
            name: r.name,
            built_in: false,
            columns: r.columns.0.columns,
            date_format: r.columns.0.date_format,
            version: r.version,
            created_at: Some(r.created_at),
            updated_at: Some(r.updated_at),
        }
    }
}

fn built_in_mapping() -> SalesImportMapping {
    SalesImportMapping {
        id: None,
        name: SHEET6.to_owned(),
        built_in: true,
        columns: ColumnMapping::sheet6(),
        date_format: DateFormat::Iso,
        version: 0,
        created_at: None,
        updated_at: None,
    }
}

/// The sales-data import service: runs imports, keeps their log and the saved mappings.
#[derive(Clone)]
pub struct SalesImporter {
    db: Db,
    clock: SharedClock,
    running: RunningImports,
}

impl SalesImporter {
    /// The service over `db`.
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self {
            db,
            clock,
            running: RunningImports::default(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Imports a file (see the module documentation) and returns what happened, with
    /// every error; `progress` is updated as rows are read and written. A rejected file
    /// is an `Ok` with status `rejected` (the route answers 422 with the errors).
    pub async fn import(
        &self,
        ctx: &TenantContext,
        file: ImportFile,
        options: ImportOptions,
        progress: Option<Arc<ImportProgress>>,
    ) -> Result<SalesImport, SalesError> {
        ctx.authorize("sales:import")?;
        let id = Uuid::now_v7();
        let created_at = self.now();
        self.run(ctx, id, created_at, false, file, options, progress)
            .await
    }

    /// Starts an import in the background and returns it at once (status `running`);
    /// poll [`SalesImporter::get_import`] for progress and the outcome.
    pub async fn start_import(
        &self,
        ctx: &TenantContext,
        file: ImportFile,
        options: ImportOptions,
    ) -> Result<SalesImport, SalesError> {
        ctx.authorize("sales:import")?;
        // Refuse an unknown mapping now, not in the background.
        self.layout(ctx, &options.mapping).await?;
        let id = Uuid::now_v7();
        let created_at = self.now();
        let record = SalesImport {
            id,
            file_name: file.name.clone(),
            file_sha256: sha256_hex(&file.bytes),
            mapping: options.mapping.clone(),
            source: options.source.to_owned(),
            status: "running".to_owned(),
            dry_run: options.dry_run,
            skip_invalid: options.skip_invalid,
            rows_total: 0,
            rows_invalid: 0,
            rows_inserted: 0,
            rows_replaced: 0,
            period_from: None,
            period_to: None,
            processed_rows: 0,
            errors: Vec::new(),
            errors_truncated: false,
            warnings: Vec::new(),
            same_file_as: None,
            failure: None,
            created_at,
            finished_at: None,
        };
        let mut tx = self.db.begin().await?;
        self.save(&mut tx, ctx, &record, false).await?;
        tx.commit().await?;
        let progress = ImportProgress::shared();
        self.running.insert(id, progress.clone());
        let importer = self.clone();
        let ctx = ctx.clone();
        let task_file = file;
        let started = record.clone();
        tokio::spawn(async move {
            let outcome = importer
                .run(
                    &ctx,
                    id,
                    created_at,
                    true,
                    task_file,
                    options,
                    Some(progress),
                )
                .await;
            if let Err(err) = outcome {
                // Nothing was written (the transaction rolled back); say why.
                let problem = kernel::Problem::from(err);
                let mut message = problem.detail.unwrap_or(problem.title);
                for e in &problem.errors {
                    message.push_str(&format!("; {}: {}", e.field, e.message));
                }
                let fail = async {
                    let mut tx = importer.db.begin().await?;
                    let mut failed = started.clone();
                    failed.status = "failed".to_owned();
                    failed.finished_at = Some(importer.now());
                    failed.failure = Some(message);
                    importer.save(&mut tx, &ctx, &failed, true).await?;
                    tx.commit().await?;
                    Ok::<(), SalesError>(())
                };
                if let Err(e) = fail.await {
                    tracing::error!(error = %e, import = %id, "cannot record a failed sales import");
                }
            }
            importer.running.remove(id);
        });
        Ok(record)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        created_at: DateTime<Utc>,
        stored: bool,
        file: ImportFile,
        options: ImportOptions,
        progress: Option<Arc<ImportProgress>>,
    ) -> Result<SalesImport, SalesError> {
        let layout = self.layout(ctx, &options.mapping).await?;
        let sha = sha256_hex(&file.bytes);
        let reference = self.reference(ctx.org_id()).await?;
        let same_file_as: Option<Uuid> = on_pool!(self.db, |p| {
            sqlx::query_scalar(
            "SELECT id FROM sales_imports WHERE org_id = $1 AND file_sha256 = $2 AND status = 'committed' \
             ORDER BY created_at DESC LIMIT 1"
        )
        .bind(ctx.org_id())
        .bind(&sha)
        .fetch_optional(p)
        .await
        })?;
        let today = self.now().date_naive();
        // Parsing and checking a million rows is CPU work: off the async workers.
        let mut validated = {
            let progress = progress.clone();
            // Moved, not cloned: the file's memory is freed once it has been read.
            let bytes = file.bytes;
            let format = file.format;
            let allow_new = options.allow_new_values;
            tokio::task::spawn_blocking(move || {
                validate_file(
                    format,
                    &bytes,
                    layout,
                    &reference,
                    allow_new,
                    today,
                    progress.as_deref(),
                )
            })
            .await
            .map_err(|e| SalesError::Conflict(format!("the import stopped: {e}")))??
        };
        let refuse = validated.fatal || (validated.rows_invalid > 0 && !options.skip_invalid);
        let status = if refuse {
            "rejected"
        } else if options.dry_run {
            "validated"
        } else {
            "committed"
        };
        let mut record = SalesImport {
            id,
            file_name: file.name,
            file_sha256: sha,
            mapping: options.mapping.clone(),
            source: options.source.to_owned(),
            status: status.to_owned(),
            dry_run: options.dry_run,
            skip_invalid: options.skip_invalid,
            rows_total: validated.rows_total as u64,
            rows_invalid: validated.rows_invalid as u64,
            rows_inserted: 0,
            rows_replaced: 0,
            period_from: validated.first_day.map(facts::date_of_day),
            period_to: validated.last_day.map(facts::date_of_day),
            processed_rows: validated.rows_total as u64,
            errors: std::mem::take(&mut validated.errors),
            errors_truncated: false,
            warnings: std::mem::take(&mut validated.warnings),
            same_file_as,
            failure: None,
            created_at,
            finished_at: None,
        };
        let mut tx = self.db.begin().await?;
        if status == "committed" {
            // Reading and checking a row is one unit of work; writing a fact and its share
            // of the rollups two more (see `facts::WriteProgress`).
            let read = validated.rows_total;
            if let Some(p) = &progress {
                p.set_total(read + 2 * validated.batch.facts.len());
                p.set_processed(read);
            }
            let report = |done: usize, _total: usize| {
                if let Some(p) = &progress {
                    p.set_processed(read + done);
                }
            };
            let written = facts::write_fact_batch_reporting(
                &mut tx,
                ctx.org_id(),
                id,
                &validated.batch,
                &report,
            )
            .await?;
            drop(validated);
            record.rows_inserted = written.inserted;
            record.rows_replaced = written.replaced;
            let summary = serde_json::json!({
                "import_id": id,
                "file_name": record.file_name,
                "mapping": record.mapping,
                "rows_total": record.rows_total,
                "rows_invalid": record.rows_invalid,
                "rows_inserted": record.rows_inserted,
                "rows_replaced": record.rows_replaced,
                "period_from": record.period_from,
                "period_to": record.period_to,
                "same_file_as": record.same_file_as,
            });
            crate::service::record_action(
                &mut tx,
                &self.clock,
                ctx,
                "sales.data_imported",
                "sales_import",
                id,
                summary,
            )
            .await?;
        }
        record.finished_at = Some(self.now());
        self.save(&mut tx, ctx, &record.clone().truncated(), stored)
            .await?;
        tx.commit().await?;
        if status == "committed" {
            // New data may open or close gaps: raise the alerts now rather than at the next
            // manual scan. The import has committed whatever happens here, so a failed
            // scan is logged, not reported as a failed import.
            if let Err(e) = crate::analytics::alerts::scan(
                &self.db,
                &self.clock,
                ctx.org_id(),
                Some(ctx.actor().label()),
            )
            .await
            {
                tracing::warn!(error = %e, import_id = %id, "alert scan after a sales import failed");
            }
        }
        if let Some(p) = &progress {
            p.set_processed(p.total());
        }
        Ok(record)
    }

    /// Inserts (or, for a background import, updates) the log row of `record`.
    async fn save(
        &self,
        tx: &mut Tx,
        ctx: &TenantContext,
        record: &SalesImport,
        exists: bool,
    ) -> Result<(), SalesError> {
        let report = Json(StoredReport {
            errors: record
                .errors
                .iter()
                .take(MAX_REPORTED_ERRORS)
                .cloned()
                .collect(),
            errors_truncated: record.errors_truncated || record.errors.len() > MAX_REPORTED_ERRORS,
            warnings: record.warnings.clone(),
            same_file_as: record.same_file_as,
            failure: record.failure.clone(),
        });
        let period_from = record.period_from.map(facts::day_number);
        let period_to = record.period_to.map(facts::day_number);
        let sql = if exists {
            "UPDATE sales_imports SET file_name = $3, file_sha256 = $4, mapping_name = $5, source = $6, dry_run = $7, \
             skip_invalid = $8, status = $9, rows_total = $10, rows_invalid = $11, rows_inserted = $12, rows_replaced = $13, \
             period_from = $14, period_to = $15, report = $16, created_by = $17, created_at = $18, finished_at = $19 \
             WHERE org_id = $1 AND id = $2"
        } else {
            "INSERT INTO sales_imports (org_id, id, file_name, file_sha256, mapping_name, source, dry_run, skip_invalid, status, \
             rows_total, rows_invalid, rows_inserted, rows_replaced, period_from, period_to, report, created_by, created_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        };
        on_tx!(tx, |c| sqlx::query(sql)
            .bind(ctx.org_id())
            .bind(record.id)
            .bind(&record.file_name)
            .bind(&record.file_sha256)
            .bind(&record.mapping)
            .bind(&record.source)
            .bind(record.dry_run)
            .bind(record.skip_invalid)
            .bind(&record.status)
            .bind(record.rows_total as i64)
            .bind(record.rows_invalid as i64)
            .bind(record.rows_inserted as i64)
            .bind(record.rows_replaced as i64)
            .bind(period_from)
            .bind(period_to)
            .bind(&report)
            .bind(ctx.actor().user_id())
            .bind(record.created_at)
            .bind(record.finished_at)
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// One import of the caller's organisation; while it runs here, `processed_rows`
    /// says how far it has got.
    pub async fn get_import(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<SalesImport, SalesError> {
        ctx.authorize("sales:read")?;
        let row: Option<ImportRow> = on_pool!(self.db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("SELECT {IMPORT_COLUMNS} FROM sales_imports WHERE org_id = $1 AND id = $2")
        ))
        .bind(ctx.org_id())
        .bind(id)
        .fetch_optional(p)
        .await)?;
        let mut import: SalesImport = row.ok_or(SalesError::NotFound("sales import"))?.into();
        if import.status == "running"
            && let Some(progress) = self.running.get(id)
        {
            import.rows_total = progress.rows() as u64;
            import.processed_rows = progress.processed_as_rows() as u64;
        }
        Ok(import)
    }

    /// Recent imports (`?status=`, `?cursor=`, `?limit=`), newest first.
    pub async fn list_imports(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Page<SalesImport>, SalesError> {
        ctx.authorize("sales:read")?;
        let plan = IMPORT_LIST
            .plan(query, &[])
            .map_err(|p| SalesError::Validation(p.errors))?;
        let sql = plan.sql(2);
        let text = format!(
            "SELECT {IMPORT_COLUMNS} FROM sales_imports WHERE org_id = $1{}{}{}",
            sql.conditions, sql.order_by, sql.limit
        );
        let rows: Vec<ImportRow> = on_pool!(self.db, |p| {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
            bind_values!(q, &sql.binds).fetch_all(p).await
        })?;
        Ok(plan.page(rows.into_iter().map(SalesImport::from).collect()))
    }

    /// The regions and pack types the organisation already knows (stores, products and
    /// earlier imports): the reference lists typos are caught against.
    async fn reference(&self, org: Uuid) -> Result<Reference, SalesError> {
        let regions: Vec<String> = on_pool!(self.db, |p| sqlx::query_scalar(
            "SELECT region FROM sales_fact_areas WHERE org_id = $1 \
             UNION SELECT region FROM sales_stores WHERE org_id = $1 AND region IS NOT NULL"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        let pack_types: Vec<String> = on_pool!(self.db, |p| sqlx::query_scalar(
            "SELECT pack_type FROM sales_fact_skus WHERE org_id = $1 \
             UNION SELECT pack_type FROM sales_products WHERE org_id = $1 AND pack_type IS NOT NULL"
        )
        .bind(org)
        .fetch_all(p)
        .await)?;
        let keep = |values: Vec<String>| -> HashSet<String> {
            values
                .into_iter()
                .filter(|v| !v.trim().is_empty())
                .collect()
        };
        Ok(Reference {
            regions: keep(regions),
            pack_types: keep(pack_types),
        })
    }

    // ------------------------------------------------------------------ mappings

    /// The layout of a mapping by name: `sheet6` or a saved one.
    pub async fn layout(&self, ctx: &TenantContext, name: &str) -> Result<Layout, SalesError> {
        if name.eq_ignore_ascii_case(SHEET6) {
            return Ok(Layout::sheet6());
        }
        let row: Option<MappingRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, columns, created_at, updated_at, version FROM sales_import_mappings \
             WHERE org_id = $1 AND name = $2"
        )
        .bind(ctx.org_id())
        .bind(name.trim())
        .fetch_optional(p)
        .await
        })?;
        let row = row.ok_or_else(|| {
            SalesError::field(
                "mapping",
                format!("no mapping named `{name}` (the built-in one is `sheet6`)"),
            )
        })?;
        Ok(Layout {
            name: row.name,
            columns: row.columns.0.columns,
            date_format: row.columns.0.date_format,
        })
    }

    /// The built-in `sheet6` and the organisation's saved mappings, by name.
    pub async fn list_mappings(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<SalesImportMapping>, SalesError> {
        ctx.authorize("sales:read")?;
        let rows: Vec<MappingRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, columns, created_at, updated_at, version FROM sales_import_mappings \
             WHERE org_id = $1 ORDER BY name"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        let mut all = vec![built_in_mapping()];
        all.extend(rows.into_iter().map(SalesImportMapping::from));
        Ok(all)
    }

    async fn mapping_row(&self, org: Uuid, id: Uuid) -> Result<MappingRow, SalesError> {
        let row: Option<MappingRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, columns, created_at, updated_at, version FROM sales_import_mappings \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org)
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        row.ok_or(SalesError::NotFound("import mapping"))
    }

    /// One saved mapping.
    pub async fn get_mapping(
        &self,
        ctx: &TenantContext,
        id: Uuid,
    ) -> Result<SalesImportMapping, SalesError> {
        ctx.authorize("sales:read")?;
        Ok(self.mapping_row(ctx.org_id(), id).await?.into())
    }

    fn check_mapping(name: &str, columns: &ColumnMapping) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > 100 {
            errors.push(FieldError::new("name", "at most 100 characters"));
        } else if name.eq_ignore_ascii_case(SHEET6) {
            errors.push(FieldError::new("name", "`sheet6` is the built-in mapping"));
        }
        for (field, message) in columns.problems() {
            errors.push(FieldError::new(field, message));
        }
        errors
    }

    async fn name_taken(
        &self,
        tx: &mut Tx,
        org: Uuid,
        name: &str,
        except: Option<Uuid>,
    ) -> Result<bool, SalesError> {
        let found: Option<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM sales_import_mappings WHERE org_id = $1 AND name = $2"
        )
        .bind(org)
        .bind(name)
        .fetch_optional(c)
        .await)?;
        Ok(found.is_some_and(|id| Some(id) != except))
    }

    /// Saves a column mapping (`sales:import`).
    pub async fn create_mapping(
        &self,
        ctx: &TenantContext,
        new: NewSalesImportMapping,
    ) -> Result<SalesImportMapping, SalesError> {
        ctx.authorize("sales:import")?;
        let errors = Self::check_mapping(&new.name, &new.columns);
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let now = self.now();
        let mapping = SalesImportMapping {
            id: Some(Uuid::now_v7()),
            name: new.name.trim().to_owned(),
            built_in: false,
            columns: trimmed(new.columns),
            date_format: new.date_format.unwrap_or_default(),
            version: 1,
            created_at: Some(now),
            updated_at: Some(now),
        };
        let mut tx = self.db.begin().await?;
        if self
            .name_taken(&mut tx, ctx.org_id(), &mapping.name, None)
            .await?
        {
            return Err(SalesError::field("name", "a mapping with this name exists"));
        }
        let stored = Json(StoredMapping {
            columns: mapping.columns.clone(),
            date_format: mapping.date_format,
        });
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO sales_import_mappings (org_id, id, name, columns, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, 1)"
        )
        .bind(ctx.org_id())
        .bind(mapping.id)
        .bind(&mapping.name)
        .bind(&stored)
        .bind(ctx.actor().user_id())
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        let after = serde_json::to_value(&mapping).unwrap_or_default();
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "sales_import_mapping.created",
            "sales_import_mapping",
            mapping.id.unwrap_or_default(),
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(mapping)
    }

    /// Changes a saved mapping (`sales:import`; `If-Match` or `version`).
    pub async fn update_mapping(
        &self,
        ctx: &TenantContext,
        id: Uuid,
        patch: SalesImportMappingPatch,
        expected: i64,
    ) -> Result<SalesImportMapping, SalesError> {
        ctx.authorize("sales:import")?;
        let current: SalesImportMapping = self.mapping_row(ctx.org_id(), id).await?.into();
        if current.version != expected {
            return Err(SalesError::VersionMismatch {
                current: serde_json::to_value(&current).unwrap_or_default(),
            });
        }
        let mut next = current.clone();
        if let Some(name) = patch.name {
            next.name = name.trim().to_owned();
        }
        if let Some(columns) = patch.columns {
            next.columns = trimmed(columns);
        }
        if let Some(format) = patch.date_format {
            next.date_format = format;
        }
        let errors = Self::check_mapping(&next.name, &next.columns);
        if !errors.is_empty() {
            return Err(SalesError::Validation(errors));
        }
        let now = self.now();
        next.version += 1;
        next.updated_at = Some(now);
        let mut tx = self.db.begin().await?;
        if self
            .name_taken(&mut tx, ctx.org_id(), &next.name, Some(id))
            .await?
        {
            return Err(SalesError::field("name", "a mapping with this name exists"));
        }
        let stored = Json(StoredMapping {
            columns: next.columns.clone(),
            date_format: next.date_format,
        });
        let changed = on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE sales_import_mappings SET name = $3, columns = $4, updated_at = $5, version = version + 1 \
             WHERE org_id = $1 AND id = $2 AND version = $6"
        )
        .bind(ctx.org_id())
        .bind(id)
        .bind(&next.name)
        .bind(&stored)
        .bind(now)
        .bind(expected)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            tx.rollback().await?;
            let now = self.get_mapping(ctx, id).await?;
            return Err(SalesError::VersionMismatch {
                current: serde_json::to_value(&now).unwrap_or_default(),
            });
        }
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "sales_import_mapping.updated",
            "sales_import_mapping",
            id,
            &serde_json::to_value(&current).unwrap_or_default(),
            &serde_json::to_value(&next).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Deletes a saved mapping (`sales:import`); past imports keep its name.
    pub async fn delete_mapping(&self, ctx: &TenantContext, id: Uuid) -> Result<(), SalesError> {
        ctx.authorize("sales:import")?;
        let current: SalesImportMapping = self.mapping_row(ctx.org_id(), id).await?.into();
        let mut tx = self.db.begin().await?;
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM sales_import_mappings WHERE org_id = $1 AND id = $2"
        )
        .bind(ctx.org_id())
        .bind(id)
        .execute(c)
        .await
        .map(|_| ()))?;
        audit::record_change(
            &mut tx,
            &self.clock,
            ctx,
            "sales_import_mapping.deleted",
            "sales_import_mapping",
            id,
            &serde_json::to_value(&current).unwrap_or_default(),
            &serde_json::Value::Null,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn trimmed(columns: ColumnMapping) -> ColumnMapping {
    let t = |s: String| s.trim().to_owned();
    ColumnMapping {
        date: t(columns.date),
        region: t(columns.region),
        province: t(columns.province),
        precision_area: t(columns.precision_area),
        outlet_code: t(columns.outlet_code),
        outlet_name: t(columns.outlet_name),
        channel: t(columns.channel),
        pack_type: t(columns.pack_type),
        sku: t(columns.sku),
        sales_qty: t(columns.sales_qty),
        sales_value: t(columns.sales_value),
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Reads and checks a whole file: pure CPU work, testable without a database.
pub fn validate_file(
    format: FileFormat,
    bytes: &[u8],
    layout: Layout,
    reference: &Reference,
    allow_new_values: bool,
    today: NaiveDate,
    progress: Option<&ImportProgress>,
) -> Result<Validated, SalesError> {
    let sheet = layout.name.clone();
    let mut validator = Validator::new(layout, reference, allow_new_values, today);
    let mut seen = 0usize;
    read::read_rows(
        format,
        bytes,
        &sheet,
        &mut |total| {
            if let Some(p) = progress {
                p.set_rows(total.saturating_sub(1));
                p.set_total(total.saturating_sub(1));
            }
        },
        &mut |row, cells| {
            validator.row(row, cells);
            seen += 1;
            if let Some(p) = progress
                && seen.is_multiple_of(4096)
            {
                p.set_processed(seen);
            }
        },
    )
    .map_err(|e| SalesError::field("file", e.0))?;
    let validated = validator.finish();
    if let Some(p) = progress {
        p.set_rows(validated.rows_total);
        p.set_total(validated.rows_total);
        p.set_processed(validated.rows_total);
    }
    Ok(validated)
}
