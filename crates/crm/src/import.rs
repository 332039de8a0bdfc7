//! Importing contacts from CSV or XLSX, and exporting them as CSV.
//!
//! An import reads the whole file, maps its columns to fields (by header name, common
//! aliases, or an explicit mapping), validates every row and reports every bad cell as
//! `row N, column C: reason` with N the spreadsheet's own row number (header = row 1).
//! Duplicates (same email within the file, or already in the organisation) are flagged.
//! Nothing is written unless every row is valid, or the caller asked to skip bad rows;
//! the rows that are written commit in one transaction.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::Reader;
use chrono::{DateTime, Utc};
use kernel::pii::normalise_email;
use kernel::{FieldError, TenantContext, on_pool};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::bulk::{ContactInput, ImportProgress, in_parallel};
use crate::custom_fields::{CustomField, CustomFieldKind, CustomValues, table_of};
use crate::model::CrmError;
use crate::service::{Crm, normalise_phone};

/// Fields a contact import can fill, and the header names recognised for each.
const CONTACT_COLUMNS: &[(&str, &[&str])] = &[
    (
        "first_name",
        &["first name", "firstname", "given name", "first"],
    ),
    (
        "last_name",
        &["last name", "lastname", "surname", "family name", "last"],
    ),
    ("email", &["email", "e-mail", "email address", "mail"]),
    (
        "phone",
        &["phone", "telephone", "mobile", "phone number", "tel"],
    ),
    ("title", &["title", "job title", "position"]),
    (
        "company",
        &[
            "company",
            "company name",
            "organisation",
            "organization",
            "account",
        ],
    ),
];

/// The file format of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values (UTF-8).
    Csv,
    /// Excel workbook (first sheet).
    Xlsx,
}

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Validate and report only.
    pub dry_run: bool,
    /// Import the valid rows and report the others (default: all or nothing).
    pub skip_invalid: bool,
    /// Field → header of the file, overriding the automatic matching.
    pub mapping: BTreeMap<String, String>,
}

/// One bad cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Row number in the spreadsheet (header = 1).
    pub row: usize,
    /// Column header (or field name when the column is missing).
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// A row that looks like an existing record or another row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Duplicate {
    /// Row number in the spreadsheet.
    pub row: usize,
    /// What matched (`email`).
    pub field: String,
    /// The existing contact, if the match is in the database.
    pub existing_id: Option<Uuid>,
    /// The earlier row of the same file, if the match is in the file.
    pub same_as_row: Option<usize>,
}

/// What an import did (or would do, on a dry run).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Data rows in the file.
    pub total_rows: usize,
    /// Rows without errors.
    pub valid_rows: usize,
    /// Rows with at least one error.
    pub invalid_rows: usize,
    /// Rows written.
    pub imported: usize,
    /// Every bad cell.
    pub errors: Vec<RowError>,
    /// Rows that match an existing contact or an earlier row (imported all the same).
    pub duplicates: Vec<Duplicate>,
    /// Field → file column used.
    pub mapping: BTreeMap<String, String>,
}

impl ImportReport {
    /// Duplicates in row order (then by field), wherever they were found.
    fn sort_duplicates(&mut self) {
        self.duplicates
            .sort_by(|a, b| (a.row, &a.field).cmp(&(b.row, &b.field)));
    }
}

/// Imports at least this large write with a larger SQLite page cache
/// (`enlarge_page_cache`) and refresh PostgreSQL's statistics before returning
/// (`Crm::refresh_statistics`); smaller ones are left to the defaults and autovacuum.
const LARGE_IMPORT_ROWS: usize = 1_000;

/// SQLite page cache of a large import's connection, in KiB (SQLite's default is 2 MiB).
const IMPORT_PAGE_CACHE_KIB: i64 = 128 * 1024;

/// SQLite: lets the import's connection cache up to `IMPORT_PAGE_CACHE_KIB` of pages,
/// returning the previous setting. A 100,000-contact import touches seven B-trees, four
/// of them at random places (name, email and phone indexes, company); with the default
/// 2 MiB cache most inserts evicted a dirty page (spilled to the WAL, read back later).
/// The cache grows only as pages are used. PostgreSQL: nothing to do (shared buffers).
async fn enlarge_page_cache(tx: &mut kernel::Tx) -> Result<Option<i64>, CrmError> {
    let kernel::db::TxInner::Sqlite(c) = &mut tx.inner else {
        return Ok(None);
    };
    let previous: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(&mut **c)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA cache_size = -{IMPORT_PAGE_CACHE_KIB}"
    )))
    .execute(&mut **c)
    .await?;
    Ok(Some(previous))
}

/// Puts the connection's page cache back before it returns to the pool; SQLite frees
/// the extra pages as the commit releases them.
async fn restore_page_cache(tx: &mut kernel::Tx, previous: i64) -> Result<(), CrmError> {
    if let kernel::db::TxInner::Sqlite(c) = &mut tx.inner {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA cache_size = {previous}"
        )))
        .execute(&mut **c)
        .await?;
    }
    Ok(())
}

/// A file's header and its rows, each with its spreadsheet row number.
type Table = (Vec<String>, Vec<(usize, Vec<String>)>);

/// Field → column index, and field → header used. Custom fields are named `cf.<key>`.
type ColumnMap = (HashMap<String, usize>, BTreeMap<String, String>);

/// Reads a file into (header, rows with their spreadsheet row numbers).
fn read_table(format: FileFormat, bytes: &[u8]) -> Result<Table, CrmError> {
    match format {
        FileFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .from_reader(bytes);
            // Line number (1-based) of the next record: the reader skips blank lines and does
            // not count them, so derive it from the byte offset, as a spreadsheet counts rows.
            // Newlines are counted incrementally from the previous offset: linear in the file.
            let mut counted_to = 0usize;
            let mut newlines = 0usize;
            let mut line_at = |offset: u64| {
                let mut offset = usize::try_from(offset)
                    .unwrap_or(bytes.len())
                    .min(bytes.len());
                while offset < bytes.len() && (bytes[offset] == b'\n' || bytes[offset] == b'\r') {
                    offset += 1;
                }
                if offset >= counted_to {
                    newlines += bytes[counted_to..offset]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count();
                    counted_to = offset;
                }
                1 + newlines
            };
            let mut header = Vec::new();
            let mut rows = Vec::new();
            loop {
                let line = line_at(reader.position().byte());
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let cells: Vec<String> = record
                            .iter()
                            .map(|c| c.trim_start_matches('\u{feff}').trim().to_owned())
                            .collect();
                        if header.is_empty() && rows.is_empty() {
                            header = cells;
                        } else {
                            rows.push((line, cells));
                        }
                    }
                    Err(e) => {
                        return Err(CrmError::field(
                            "file",
                            format!("row {line} is not valid CSV: {e}"),
                        ));
                    }
                }
            }
            if header.is_empty() {
                return Err(CrmError::field("file", "the file is empty"));
            }
            Ok((header, rows))
        }
        FileFormat::Xlsx => {
            let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
                .map_err(|e| CrmError::field("file", format!("not a readable spreadsheet: {e}")))?;
            let Some(sheet) = workbook.sheet_names().first().cloned() else {
                return Err(CrmError::field("file", "the workbook has no sheet"));
            };
            let range = workbook
                .worksheet_range(&sheet)
                .map_err(|e| CrmError::field("file", format!("cannot read sheet {sheet}: {e}")))?;
            let first_row = range.start().map_or(0, |(r, _)| r as usize);
            let mut iter = range.rows();
            let header: Vec<String> = match iter.next() {
                Some(cells) => cells
                    .iter()
                    .map(|c| c.to_string().trim().to_owned())
                    .collect(),
                None => return Err(CrmError::field("file", "the sheet is empty")),
            };
            let rows = iter
                .enumerate()
                .map(|(i, cells)| {
                    (
                        first_row + i + 2,
                        cells
                            .iter()
                            .map(|c| c.to_string().trim().to_owned())
                            .collect(),
                    )
                })
                .collect();
            Ok((header, rows))
        }
    }
}

/// Field → column index, from the explicit mapping or the header names.
fn map_columns(
    header: &[String],
    explicit: &BTreeMap<String, String>,
    defs: &[CustomField],
) -> Result<ColumnMap, CrmError> {
    let mut errors = Vec::new();
    let mut found = HashMap::new();
    let mut used = BTreeMap::new();
    let lower: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    // Custom fields match their label or key, or `map[cf.<key>]=`.
    for def in defs {
        let field = format!("cf.{}", def.key);
        let index = match explicit.get(&field) {
            Some(wanted) => match lower.iter().position(|h| *h == wanted.to_lowercase()) {
                Some(i) => Some(i),
                None => {
                    errors.push(FieldError::new(
                        format!("map[{field}]"),
                        format!("the file has no column `{wanted}`"),
                    ));
                    None
                }
            },
            None => lower
                .iter()
                .position(|h| *h == def.label.to_lowercase() || *h == def.key || *h == field),
        };
        match index {
            Some(i) => {
                found.insert(field.clone(), i);
                used.insert(field, header[i].clone());
            }
            None if def.required => errors.push(FieldError::new(
                "file",
                format!(
                    "no column for the required custom field `{}` ({field})",
                    def.label
                ),
            )),
            None => {}
        }
    }
    for (field, aliases) in CONTACT_COLUMNS {
        let index = match explicit.get(*field) {
            Some(wanted) => match lower.iter().position(|h| *h == wanted.to_lowercase()) {
                Some(i) => Some(i),
                None => {
                    errors.push(FieldError::new(
                        format!("map[{field}]"),
                        format!("the file has no column `{wanted}`"),
                    ));
                    None
                }
            },
            None => lower.iter().position(|h| {
                h == field
                    || h.replace(['_', '-'], " ") == field.replace('_', " ")
                    || aliases.contains(&h.as_str())
            }),
        };
        if let Some(i) = index {
            found.insert((*field).to_owned(), i);
            used.insert((*field).to_owned(), header[i].clone());
        }
    }
    for key in explicit.keys() {
        let custom = key
            .strip_prefix("cf.")
            .is_some_and(|k| defs.iter().any(|d| d.key == k));
        if !custom && !CONTACT_COLUMNS.iter().any(|(f, _)| f == key) {
            errors.push(FieldError::new(
                format!("map[{key}]"),
                "is not a contact field",
            ));
        }
    }
    if !found.contains_key("first_name") && errors.is_empty() {
        errors.push(FieldError::new(
            "file",
            "no first name column (e.g. `First Name`); map one with map[first_name]=<header>",
        ));
    }
    if errors.is_empty() {
        Ok((found, used))
    } else {
        Err(CrmError::Validation(errors))
    }
}

/// A spreadsheet cell as a custom field value (links are checked against the database
/// afterwards, many at a time).
fn cell_value(def: &CustomField, text: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let pick = |option: &str| {
        def.options
            .iter()
            .find(|o| o.eq_ignore_ascii_case(option.trim()))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "`{}` is not one of: {}",
                    option.trim(),
                    def.options.join(", ")
                )
            })
    };
    match def.kind {
        CustomFieldKind::Text => Ok(Value::from(text)),
        CustomFieldKind::Number => text
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::from)
            .ok_or_else(|| format!("`{text}` is not a number")),
        CustomFieldKind::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|d| Value::from(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| format!("`{text}` is not a date as YYYY-MM-DD")),
        CustomFieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not yes or no")),
        },
        CustomFieldKind::Select => pick(text).map(Value::from),
        CustomFieldKind::MultiSelect => {
            let mut chosen: Vec<String> = Vec::new();
            for part in text.split([';', ',']).filter(|p| !p.trim().is_empty()) {
                let option = pick(part)?;
                if !chosen.contains(&option) {
                    chosen.push(option);
                }
            }
            Ok(Value::from(chosen))
        }
        CustomFieldKind::Currency => {
            // "12.50 USD" or "USD 12.50".
            let parts: Vec<&str> = text.split_whitespace().collect();
            let (amount, currency) = match parts.as_slice() {
                [a, c] if a.parse::<rust_decimal::Decimal>().is_ok() => (*a, *c),
                [c, a] => (*a, *c),
                _ => {
                    return Err(format!(
                        "`{text}` is not an amount and a currency, like 12.50 USD"
                    ));
                }
            };
            let amount = amount
                .replace(',', "")
                .parse::<rust_decimal::Decimal>()
                .ok()
                .filter(|a| a.scale() <= 4)
                .ok_or_else(|| format!("`{amount}` is not an amount (at most 4 decimals)"))?;
            let currency = crate::service::check_currency(currency)?;
            Ok(serde_json::json!({"amount": amount.normalize().to_string(), "currency": currency}))
        }
        CustomFieldKind::Link => Uuid::parse_str(text)
            .map(|id| Value::from(id.to_string()))
            .map_err(|_| format!("`{text}` is not a record id")),
    }
}

struct ContactRow {
    custom: CustomValues,
    row: usize,
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    company: Option<String>,
}

impl Crm {
    /// Imports contacts from a CSV or XLSX file (see the module documentation).
    pub async fn import_contacts(
        &self,
        ctx: &TenantContext,
        format: FileFormat,
        bytes: &[u8],
        options: ImportOptions,
        progress: Option<&ImportProgress>,
    ) -> Result<ImportReport, CrmError> {
        ctx.authorize("contacts:import")?;
        ctx.authorize("contacts:create")?;
        let phase = std::time::Instant::now();
        let (header, rows) = read_table(format, bytes)?;
        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "parsed");
        if let Some(progress) = progress {
            progress.set_total(rows.len());
        }
        let defs = self.field_defs(ctx.org_id(), "contacts").await?;
        let (columns, mapping) = map_columns(&header, &options.mapping, &defs)?;
        let cell = |cells: &[String], field: &str| {
            columns
                .get(field)
                .and_then(|i| cells.get(*i))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let column_name = |field: &str| {
            columns
                .get(field)
                .and_then(|i| header.get(*i))
                .cloned()
                .unwrap_or_else(|| field.to_owned())
        };

        let mut errors = Vec::new();
        let mut valid = Vec::new();
        let mut invalid_rows = 0;
        let total_rows = rows
            .iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
            .count();
        for (i, (row, cells)) in rows.iter().enumerate() {
            if let Some(progress) = progress
                && i % 1_000 == 999
            {
                progress.advance(1_000);
            }
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            let before = errors.len();
            let first_name = cell(cells, "first_name");
            if first_name.is_none() {
                errors.push(RowError {
                    row: *row,
                    column: column_name("first_name"),
                    message: "is required".to_owned(),
                });
            }
            let email = cell(cells, "email").map(|e| normalise_email(&e));
            if let Some(e) = &email
                && !(e.contains('@') && e.rsplit('@').next().is_some_and(|d| d.contains('.')))
            {
                errors.push(RowError {
                    row: *row,
                    column: column_name("email"),
                    message: format!("`{e}` is not an email address"),
                });
            }
            let phone = cell(cells, "phone");
            if let Some(p) = &phone
                && normalise_phone(p)
                    .chars()
                    .filter(char::is_ascii_digit)
                    .count()
                    < 6
            {
                errors.push(RowError {
                    row: *row,
                    column: column_name("phone"),
                    message: format!("`{p}` needs at least 6 digits"),
                });
            }
            let mut custom = CustomValues::new();
            for def in &defs {
                let field = format!("cf.{}", def.key);
                match cell(cells, &field) {
                    Some(text) => match cell_value(def, &text) {
                        Ok(value) => {
                            custom.insert(def.key.clone(), value);
                        }
                        Err(message) => errors.push(RowError {
                            row: *row,
                            column: column_name(&field),
                            message,
                        }),
                    },
                    None if def.required => errors.push(RowError {
                        row: *row,
                        column: column_name(&field),
                        message: "is required".to_owned(),
                    }),
                    None => {}
                }
            }
            if errors.len() > before {
                invalid_rows += 1;
                continue;
            }
            valid.push(ContactRow {
                custom,
                row: *row,
                first_name: first_name.unwrap_or_default(),
                last_name: cell(cells, "last_name").unwrap_or_default(),
                email,
                phone,
                title: cell(cells, "title"),
                company: cell(cells, "company"),
            });
        }

        // Links must name records of the organisation: checked many at a time.
        for def in defs.iter().filter(|d| d.kind == CustomFieldKind::Link) {
            let Some(table) = def.link_object.as_deref().and_then(table_of) else {
                continue;
            };
            let wanted: Vec<Uuid> = valid
                .iter()
                .filter_map(|r| r.custom.get(&def.key))
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut existing = std::collections::HashSet::new();
            for chunk in wanted.chunks(500) {
                let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let text = format!(
                    "SELECT id FROM {table} WHERE org_id = $1 AND id IN ({})",
                    list.join(", ")
                );
                let found: Vec<Uuid> = on_pool!(self.db, |p| {
                    let mut q =
                        sqlx::query_scalar(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.fetch_all(p).await
                })?;
                existing.extend(found);
            }
            let field = format!("cf.{}", def.key);
            valid.retain(|r| {
                let missing = r
                    .custom
                    .get(&def.key)
                    .and_then(|v| v.as_str())
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .is_some_and(|id| !existing.contains(&id));
                if missing {
                    errors.push(RowError {
                        row: r.row,
                        column: column_name(&field),
                        message: format!("no such record in {table}"),
                    });
                    invalid_rows += 1;
                }
                !missing
            });
        }
        errors.sort_by_key(|e| e.row);
        if let Some(progress) = progress {
            progress.set_processed(rows.len());
        }

        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "validated");
        // Duplicates: the same email or phone earlier in the file, or already in the
        // organisation (looked up through the blind indexes, many at a time).
        let mut duplicates = Vec::new();
        // Each row's blind indexes, computed once for this check and the insert.
        let indexes: Vec<(Option<String>, Option<String>)> = in_parallel(&valid, |r| {
            (
                r.email
                    .as_deref()
                    .map(|e| self.ring.blind_index("contact-email", e)),
                r.phone
                    .as_deref()
                    .map(|p| self.ring.blind_index("contact-phone", &normalise_phone(p))),
            )
        });
        // (field, row, blind index) of each value's first row: looked up in the database.
        let mut probes: Vec<(&'static str, usize, &str)> = Vec::new();
        for field in ["email", "phone"] {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (r, (email_index, phone_index)) in valid.iter().zip(&indexes) {
                let index = match field {
                    "email" => email_index,
                    _ => phone_index,
                };
                // Equal values have equal blind indexes (the key is the same).
                let Some(value) = index.as_deref() else {
                    continue;
                };
                if let Some(first) = seen.get(value) {
                    duplicates.push(Duplicate {
                        row: r.row,
                        field: field.to_owned(),
                        existing_id: None,
                        same_as_row: Some(*first),
                    });
                    continue;
                }
                seen.insert(value, r.row);
                probes.push((field, r.row, value));
            }
        }
        let refuse = invalid_rows > 0 && !options.skip_invalid;
        let mut report = ImportReport {
            dry_run: options.dry_run,
            total_rows,
            valid_rows: valid.len(),
            invalid_rows,
            imported: 0,
            errors,
            duplicates,
            mapping,
        };
        if options.dry_run || refuse || valid.is_empty() {
            report
                .duplicates
                .extend(self.existing_duplicates(ctx.org_id(), &probes).await?);
            report.sort_duplicates();
            return Ok(report);
        }
        // The rows are written while the database is searched for contacts they
        // duplicate: the search reads through another connection, so it sees the
        // organisation as it was before this import, and it ends before the commit.
        let (existing, written) = tokio::join!(
            self.existing_duplicates(ctx.org_id(), &probes),
            self.write_contacts(
                ctx,
                &valid,
                &indexes,
                total_rows,
                invalid_rows,
                progress,
                phase
            ),
        );
        let (existing, tx) = (existing?, written?);
        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "duplicates found");
        report.duplicates.extend(existing);
        report.sort_duplicates();
        tx.commit().await?;
        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "committed");
        if valid.len() >= LARGE_IMPORT_ROWS {
            self.refresh_statistics().await;
            tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "statistics refreshed");
        }
        report.imported = valid.len();
        Ok(report)
    }

    /// Writes the valid rows (companies they name, contacts, events, the audit row) in
    /// one transaction, returned uncommitted.
    #[allow(clippy::too_many_arguments)]
    async fn write_contacts(
        &self,
        ctx: &TenantContext,
        valid: &[ContactRow],
        indexes: &[(Option<String>, Option<String>)],
        total_rows: usize,
        invalid_rows: usize,
        progress: Option<&ImportProgress>,
        phase: std::time::Instant,
    ) -> Result<kernel::Tx, CrmError> {
        // One transaction: every valid row, or none.
        let mut tx = self.db.begin().await?;
        let large = valid.len() >= LARGE_IMPORT_ROWS;
        let cache_pages = if large {
            enlarge_page_cache(&mut tx).await?
        } else {
            None
        };
        // Companies by name: existing ones are looked up many names a query, missing ones
        // are created together.
        let mut wanted: Vec<(String, String)> = Vec::new();
        let mut wanted_keys: std::collections::HashSet<String> = std::collections::HashSet::new();
        for r in valid {
            let Some(name) = &r.company else { continue };
            let key = crate::service::name_key(name);
            if wanted_keys.insert(key.clone()) {
                wanted.push((key, name.clone()));
            }
        }
        let mut companies: HashMap<String, Uuid> = HashMap::new();
        for chunk in wanted.chunks(500) {
            let text = format!(
                "SELECT name_key, id FROM companies WHERE org_id = $1 AND archived_at IS NULL AND name_key IN ({}) ORDER BY id",
                (0..chunk.len())
                    .map(|i| format!("${}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let found: Vec<(String, Uuid)> = kernel::on_tx!(tx, |c| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(ctx.org_id());
                for (key, _) in chunk {
                    q = q.bind(key.as_str());
                }
                q.fetch_all(c).await
            })?;
            // The oldest company with the name stands for all of them.
            for (key, id) in found {
                companies.entry(key).or_insert(id);
            }
        }
        let (missing_keys, missing): (Vec<String>, Vec<String>) = wanted
            .into_iter()
            .filter(|(key, _)| !companies.contains_key(key))
            .unzip();
        let created = self.bulk_insert_companies(&mut tx, ctx, &missing).await?;
        companies.extend(missing_keys.into_iter().zip(created));
        let inputs: Vec<ContactInput> = valid
            .iter()
            .zip(indexes)
            .map(|(r, (email_index, phone_index))| ContactInput {
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                email: r.email.clone(),
                email_index: email_index.clone(),
                phone: r.phone.clone(),
                phone_index: phone_index.clone(),
                title: r.title.clone(),
                company_id: r
                    .company
                    .as_deref()
                    .and_then(|name| companies.get(&crate::service::name_key(name)).copied()),
                custom: r.custom.clone(),
            })
            .collect();
        if let Some(progress) = progress {
            // Reading and checking was the first half of the work; writing is the second.
            progress.set_total(total_rows + inputs.len());
        }
        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "companies");
        self.bulk_insert_contacts(&mut tx, ctx, inputs, progress)
            .await?;
        tracing::debug!(target: "meridian::import", elapsed = ?phase.elapsed(), "contacts");
        self.audit_import(
            &mut tx,
            ctx,
            serde_json::json!({"imported": valid.len(), "skipped_invalid": invalid_rows,
                "companies_created": missing.len(), "file_rows": total_rows}),
        )
        .await?;
        if let Some(pages) = cache_pages {
            restore_page_cache(&mut tx, pages).await?;
        }
        Ok(tx)
    }

    /// The contacts of the organisation that `probes` (field, row, blind index) match,
    /// many values a query; the oldest contact with a value stands for all of them.
    async fn existing_duplicates(
        &self,
        org: Uuid,
        probes: &[(&'static str, usize, &str)],
    ) -> Result<Vec<Duplicate>, CrmError> {
        let mut duplicates = Vec::new();
        for field in ["email", "phone"] {
            let column = if field == "email" {
                "email_index"
            } else {
                "phone_index"
            };
            let wanted: Vec<(usize, &str)> = probes
                .iter()
                .filter(|(f, _, _)| *f == field)
                .map(|(_, row, index)| (*row, *index))
                .collect();
            for chunk in wanted.chunks(500) {
                let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let text = format!(
                    "SELECT {column}, id FROM contacts WHERE org_id = $1 AND archived_at IS NULL AND {column} IN ({}) ORDER BY id",
                    list.join(", ")
                );
                let found: Vec<(String, Uuid)> = on_pool!(self.db, |p| {
                    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone())).bind(org);
                    for (_, index) in chunk {
                        q = q.bind(*index);
                    }
                    q.fetch_all(p).await
                })?;
                let mut oldest: HashMap<String, Uuid> = HashMap::new();
                for (index, id) in found {
                    oldest.entry(index).or_insert(id);
                }
                for (row, index) in chunk {
                    if let Some(id) = oldest.get(*index) {
                        duplicates.push(Duplicate {
                            row: *row,
                            field: field.to_owned(),
                            existing_id: Some(*id),
                            same_as_row: None,
                        });
                    }
                }
            }
        }
        Ok(duplicates)
    }

    /// Refreshes PostgreSQL's planner statistics of the tables a large import grew.
    ///
    /// Until autovacuum's first `ANALYZE` (up to a minute later, or never while it is
    /// busy), PostgreSQL plans a freshly loaded table from default estimates: the contact
    /// list sorted by creation read every contact of the organisation and sorted them
    /// (~100 ms at 100,000) instead of walking `contacts_created` backwards (~2 ms).
    /// SQLite keeps no statistics unless asked and plans these queries from its indexes.
    /// The import has committed: a failure here is logged, not reported.
    async fn refresh_statistics(&self) {
        let kernel::db::Pool::Postgres(pool) = self.db.pool() else {
            return;
        };
        if let Err(e) = sqlx::query("ANALYZE contacts, companies")
            .execute(pool)
            .await
        {
            tracing::warn!(error = %e, "ANALYZE after a contact import failed");
        }
    }

    /// Contacts as CSV, with the list's filters and sort; PII masked without `pii:read`.
    pub async fn export_contacts_csv(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, CrmError> {
        let rows = self.export_rows(ctx, query).await?;
        let mut writer = csv::Writer::from_writer(Vec::new());
        let write_err = |e: csv::Error| CrmError::Crypto(format!("cannot write CSV: {e}"));
        writer.write_record(EXPORT_HEADER).map_err(write_err)?;
        for row in &rows {
            writer.write_record(row).map_err(write_err)?;
        }
        writer
            .into_inner()
            .map_err(|e| CrmError::Crypto(format!("cannot write CSV: {e}")))
    }

    /// The exported contacts (header excluded): every page of the list with the request's
    /// filters and sort, PII masked without `pii:read`.
    async fn export_rows(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Vec<[String; 8]>, CrmError> {
        ctx.authorize("contacts:export")?;
        let mut rows = Vec::new();
        let mut query = query.clone();
        query.insert("limit".to_owned(), "500".to_owned());
        loop {
            let page = self.list_contacts(ctx, &query).await?;
            rows.extend(page.data.iter().map(|c| {
                [
                    c.id.to_string(),
                    c.first_name.clone(),
                    c.last_name.clone(),
                    c.email.clone().unwrap_or_default(),
                    c.phone.clone().unwrap_or_default(),
                    c.title.clone().unwrap_or_default(),
                    c.company_id.map(|id| id.to_string()).unwrap_or_default(),
                    c.created_at.to_rfc3339(),
                ]
            }));
            match page.meta.next_cursor {
                Some(cursor) => {
                    query.insert("cursor".to_owned(), cursor);
                }
                None => break,
            }
        }
        Ok(rows)
    }
}

/// Columns of a contact export (CSV and XLSX).
const EXPORT_HEADER: [&str; 8] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company_id",
    "created_at",
];

/// Imports running in this process: job id → progress.
pub(crate) type RunningImports =
    std::sync::Arc<std::sync::Mutex<HashMap<Uuid, std::sync::Arc<ImportProgress>>>>;

/// An import running (or run) in the background, for large files.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportJob {
    /// Id (`GET /api/v1/imports/{id}`).
    pub id: Uuid,
    /// `contacts`.
    pub object: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Units of work in all (rows to read and check, then rows to write).
    pub total_rows: u64,
    /// Units done so far.
    pub processed_rows: u64,
    /// The report, once done.
    pub report: Option<ImportReport>,
    /// Why it failed (a file that cannot be read, a mapping that does not fit).
    pub error: Option<String>,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ImportJobRow {
    id: Uuid,
    object: String,
    status: String,
    total_rows: i64,
    processed_rows: i64,
    report: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl Crm {
    /// Starts a contact import in the background and returns its job at once; poll
    /// [`Crm::import_job`] for progress and the report.
    pub async fn start_contact_import(
        &self,
        ctx: &TenantContext,
        format: FileFormat,
        bytes: Vec<u8>,
        options: ImportOptions,
    ) -> Result<ImportJob, CrmError> {
        ctx.authorize("contacts:import")?;
        ctx.authorize("contacts:create")?;
        let job = ImportJob {
            id: Uuid::now_v7(),
            object: "contacts".to_owned(),
            status: "running".to_owned(),
            total_rows: 0,
            processed_rows: 0,
            report: None,
            error: None,
            created_at: self.now(),
            finished_at: None,
        };
        let mut tx = self.db.begin().await?;
        kernel::on_tx!(tx, |c| {
            sqlx::query(
                "INSERT INTO import_jobs (org_id, id, object, status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(ctx.org_id())
            .bind(job.id)
            .bind(&job.object)
            .bind(&job.status)
            .bind(ctx.actor().user_id())
            .bind(job.created_at)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        tx.commit().await?;
        let progress = ImportProgress::shared();
        if let Ok(mut running) = self.imports.lock() {
            running.insert(job.id, progress.clone());
        }
        let crm = self.clone();
        let ctx = ctx.clone();
        let id = job.id;
        tokio::spawn(async move {
            let outcome = crm
                .import_contacts(&ctx, format, &bytes, options, Some(&progress))
                .await;
            let (status, report, error) = match outcome {
                Ok(report) => ("done", serde_json::to_string(&report).ok(), None),
                Err(err) => {
                    let problem = kernel::Problem::from(err);
                    let mut message = problem.detail.unwrap_or(problem.title);
                    for e in &problem.errors {
                        message.push_str(&format!("; {}: {}", e.field, e.message));
                    }
                    ("failed", None, Some(message))
                }
            };
            let total = progress
                .total_rows
                .load(std::sync::atomic::Ordering::Relaxed) as i64;
            let processed = progress
                .processed_rows
                .load(std::sync::atomic::Ordering::Relaxed) as i64;
            let finish = async {
                let mut tx = crm.db.begin().await?;
                kernel::on_tx!(tx, |c| {
                    sqlx::query(
                        "UPDATE import_jobs SET status = $3, total_rows = $4, processed_rows = $5, report = $6, error = $7, finished_at = $8 \
                         WHERE org_id = $1 AND id = $2",
                    )
                    .bind(ctx.org_id())
                    .bind(id)
                    .bind(status)
                    .bind(total)
                    .bind(processed)
                    .bind(&report)
                    .bind(&error)
                    .bind(crm.now())
                    .execute(c)
                    .await
                    .map(|_| ())
                })?;
                tx.commit().await
            };
            if let Err(e) = finish.await {
                tracing::error!(error = %e, import = %id, "cannot record the end of an import");
            }
            if let Ok(mut running) = crm.imports.lock() {
                running.remove(&id);
            }
        });
        Ok(job)
    }

    /// A background import: live progress while it runs here, the report when done.
    pub async fn import_job(&self, ctx: &TenantContext, id: Uuid) -> Result<ImportJob, CrmError> {
        ctx.authorize("contacts:import")?;
        let row: Option<ImportJobRow> = on_pool!(self.db, |p| {
            sqlx::query_as(
                "SELECT id, object, status, total_rows, processed_rows, report, error, created_at, finished_at \
                 FROM import_jobs WHERE org_id = $1 AND id = $2",
            )
            .bind(ctx.org_id())
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(CrmError::NotFound("import"))?;
        let live = self
            .imports
            .lock()
            .ok()
            .and_then(|running| running.get(&id).cloned());
        let (total, processed) = match (&live, row.status.as_str()) {
            (Some(p), "running") => (
                p.total_rows.load(std::sync::atomic::Ordering::Relaxed) as u64,
                p.processed_rows.load(std::sync::atomic::Ordering::Relaxed) as u64,
            ),
            _ => (
                row.total_rows.max(0) as u64,
                row.processed_rows.max(0) as u64,
            ),
        };
        Ok(ImportJob {
            id: row.id,
            object: row.object,
            status: row.status,
            total_rows: total,
            processed_rows: processed,
            report: row.report.and_then(|r| serde_json::from_str(&r).ok()),
            error: row.error,
            created_at: row.created_at,
            finished_at: row.finished_at,
        })
    }

    /// Contacts as an Excel workbook (same filters, sort and masking as the CSV export).
    pub async fn export_contacts_xlsx(
        &self,
        ctx: &TenantContext,
        query: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, CrmError> {
        let rows = self.export_rows(ctx, query).await?;
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        let write_err =
            |e: rust_xlsxwriter::XlsxError| CrmError::Crypto(format!("cannot write XLSX: {e}"));
        let bold = rust_xlsxwriter::Format::new().set_bold();
        sheet
            .write_row_with_format(0, 0, EXPORT_HEADER, &bold)
            .map_err(write_err)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1)
                .map_err(|_| CrmError::field("limit", "too many rows for a worksheet"))?;
            sheet.write_row(r, 0, row).map_err(write_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(write_err)?;
        workbook.save_to_buffer().map_err(write_err)
    }
}

/// A saved column mapping (e.g. the layout of one customer's monthly export).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportMapping {
    /// Id.
    pub id: Uuid,
    /// Name, unique per object.
    pub name: String,
    /// `contacts`.
    pub object: String,
    /// Field → column header.
    pub columns: BTreeMap<String, String>,
}

/// `POST /api/v1/import-mappings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewImportMapping {
    /// Name.
    pub name: String,
    /// `contacts`.
    pub object: String,
    /// Field → column header.
    pub columns: BTreeMap<String, String>,
}

impl Crm {
    /// Saves a column mapping for later imports.
    pub async fn create_import_mapping(
        &self,
        ctx: &TenantContext,
        new: NewImportMapping,
    ) -> Result<ImportMapping, CrmError> {
        ctx.authorize("contacts:import")?;
        let mut errors = Vec::new();
        if new.name.trim().is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        if new.object != "contacts" {
            errors.push(FieldError::new(
                "object",
                "only contacts can be imported so far",
            ));
        }
        let defs = self.field_defs(ctx.org_id(), "contacts").await?;
        for field in new.columns.keys() {
            let custom = field
                .strip_prefix("cf.")
                .is_some_and(|k| defs.iter().any(|d| d.key == k));
            if !custom && !CONTACT_COLUMNS.iter().any(|(f, _)| f == field) {
                errors.push(FieldError::new(
                    format!("columns.{field}"),
                    "is not a contact field",
                ));
            }
        }
        if new.columns.is_empty() {
            errors.push(FieldError::new("columns", "map at least one field"));
        }
        if !errors.is_empty() {
            return Err(CrmError::Validation(errors));
        }
        let mapping = ImportMapping {
            id: Uuid::now_v7(),
            name: new.name.trim().to_owned(),
            object: new.object,
            columns: new.columns,
        };
        let mut tx = self.db.begin().await?;
        let taken: Option<Uuid> = kernel::on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT id FROM import_mappings WHERE org_id = $1 AND object = $2 AND name = $3"
        )
        .bind(ctx.org_id())
        .bind(&mapping.object)
        .bind(&mapping.name)
        .fetch_optional(c)
        .await)?;
        if taken.is_some() {
            return Err(CrmError::field("name", "a mapping with this name exists"));
        }
        kernel::on_tx!(tx, |c| {
            sqlx::query("INSERT INTO import_mappings (org_id, id, name, object, columns, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ctx.org_id())
            .bind(mapping.id)
            .bind(&mapping.name)
            .bind(&mapping.object)
            .bind(serde_json::to_string(&mapping.columns).unwrap_or_else(|_| "{}".to_owned()))
            .bind(self.now())
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let after = serde_json::to_value(&mapping).unwrap_or_default();
        self.record(
            &mut tx,
            ctx,
            "import_mapping.created",
            "import_mapping",
            mapping.id,
            &serde_json::Value::Null,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(mapping)
    }

    /// Saved mappings.
    pub async fn list_import_mappings(
        &self,
        ctx: &TenantContext,
    ) -> Result<Vec<ImportMapping>, CrmError> {
        ctx.authorize("contacts:import")?;
        let rows: Vec<(Uuid, String, String, String)> = on_pool!(self.db, |p| {
            sqlx::query_as(
            "SELECT id, name, object, columns FROM import_mappings WHERE org_id = $1 ORDER BY object, name"
        )
        .bind(ctx.org_id())
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, name, object, columns)| ImportMapping {
                id,
                name,
                object,
                columns: serde_json::from_str(&columns).unwrap_or_default(),
            })
            .collect())
    }

    /// The columns of a saved mapping, by name.
    pub async fn saved_mapping(
        &self,
        ctx: &TenantContext,
        object: &str,
        name: &str,
    ) -> Result<BTreeMap<String, String>, CrmError> {
        let columns: Option<String> = on_pool!(self.db, |p| {
            sqlx::query_scalar(
            "SELECT columns FROM import_mappings WHERE org_id = $1 AND object = $2 AND name = $3"
        )
        .bind(ctx.org_id())
        .bind(object)
        .bind(name)
        .fetch_optional(p)
        .await
        })?;
        let columns = columns.ok_or_else(|| {
            CrmError::field("mapping", format!("no saved mapping named `{name}`"))
        })?;
        Ok(serde_json::from_str(&columns).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_numbered_like_the_spreadsheet() {
        let (header, rows) = read_table(
            FileFormat::Csv,
            "\u{feff}First Name,E-mail\nAnn,ann@x.com\n\nBob,bob@x.com\n".as_bytes(),
        )
        .expect("csv");
        assert_eq!(header, ["First Name", "E-mail"]);
        let numbers: Vec<usize> = rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            numbers,
            [2, 4],
            "the blank line 3 is skipped but still counted"
        );
    }

    #[test]
    fn headers_map_by_alias_or_explicitly() {
        let header: Vec<String> = ["Given Name", "Surname", "Mail", "Mobile"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (columns, used) = map_columns(&header, &BTreeMap::new(), &[]).expect("mapped");
        assert_eq!(columns["first_name"], 0);
        assert_eq!(columns["phone"], 3);
        assert_eq!(used["email"], "Mail");
        let explicit = BTreeMap::from([
            ("first_name".to_owned(), "Surname".to_owned()),
            ("nickname".to_owned(), "Mail".to_owned()),
        ]);
        let err = map_columns(&header, &explicit, &[]).expect_err("unknown field");
        match err {
            CrmError::Validation(errors) => assert_eq!(errors[0].field, "map[nickname]"),
            other => panic!("{other:?}"),
        }
    }
}
