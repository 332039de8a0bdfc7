//! Checking every row of a sales file and staging the good ones compactly.
//!
//! The rules (docs/sales/import.md): every mapped column present; a date (ISO or the
//! mapping's text format, or a spreadsheet date/serial) between 1990-01-01 and today;
//! quantity and value numbers ≥ 0 with at most 4 decimals and below sane maxima; the text
//! fields non-empty and at most 200 characters; one row per outlet × SKU × date (a later
//! repeat is a duplicate); an outlet keeps one name, channel and area within a file and a
//! SKU one pack type; a region or pack type outside the organisation's reference list is
//! an error (a typo such as "Greater Acra"), or only a warning with `allow_new_values`.
//!
//! Staged rows hold small integer indexes into the file's own dimension tables (areas,
//! outlets, SKUs), so a million rows cost a few dozen megabytes, and strings are copied
//! once per distinct value, not once per row.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::mapping::{DateFormat, Layout};
use super::read::Cell;
use crate::facts::{BatchArea, BatchFact, BatchOutlet, BatchSku, FactBatch};

/// Largest quantity accepted for one outlet × SKU × day.
pub const MAX_QTY: i64 = 10_000_000;
/// Largest value accepted for one outlet × SKU × day.
pub const MAX_VALUE: i64 = 10_000_000_000;
/// Longest text accepted in a cell.
pub const MAX_TEXT: usize = 200;
/// Scale of stored quantities and values (4 decimals), as in the rest of sales.
const SCALE: i64 = 10_000;

/// One bad (or suspicious) cell: `row N, column C: reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowIssue {
    /// Row number in the spreadsheet (header = 1).
    pub row: usize,
    /// The column's header in the file (the mapped header when the column is missing).
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

/// What the organisation already knows: values outside these lists are typos until
/// proven otherwise. Empty lists accept anything (a first import).
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Regions of the organisation's stores and earlier imports.
    pub regions: HashSet<String>,
    /// Pack types of the organisation's products and earlier imports.
    pub pack_types: HashSet<String>,
}

/// The outcome of checking a file.
#[derive(Debug, Default)]
pub struct Validated {
    /// Data rows (non-empty rows after the header).
    pub rows_total: usize,
    /// Rows with at least one error.
    pub rows_invalid: usize,
    /// Every error, in row order.
    pub errors: Vec<RowIssue>,
    /// Accepted but worth a look (new regions or pack types with `allow_new_values`).
    pub warnings: Vec<RowIssue>,
    /// The file cannot be imported whatever the rows say (missing columns, no header).
    pub fatal: bool,
    /// The valid rows, with their areas, outlets and SKUs listed once.
    pub batch: FactBatch,
    /// First row naming each outlet of `batch` (for messages).
    pub outlet_rows: Vec<usize>,
    /// First row naming each SKU of `batch`.
    pub sku_rows: Vec<usize>,
    /// First and last day of the valid rows.
    pub first_day: Option<i32>,
    /// Last day of the valid rows.
    pub last_day: Option<i32>,
}

/// Days since 1970-01-01 of `date`.
pub fn day_of(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - 719_163
}

/// Checks rows one at a time as the reader streams them.
pub struct Validator<'r> {
    layout: Layout,
    reference: &'r Reference,
    allow_new_values: bool,
    earliest: NaiveDate,
    today: NaiveDate,
    header: Option<[usize; 11]>,
    names: [String; 11],
    out: Validated,
    area_ids: HashMap<String, u32>,
    outlet_ids: HashMap<String, u32>,
    sku_ids: HashMap<String, u32>,
    seen: HashMap<(i32, u32, u32), u32>,
    unknown: HashMap<(bool, String), Option<String>>,
    key: String,
}

// Field positions in `FIELDS`.
const DATE: usize = 0;
const REGION: usize = 1;
const PROVINCE: usize = 2;
const AREA: usize = 3;
const OUTLET_CODE: usize = 4;
const OUTLET_NAME: usize = 5;
const CHANNEL: usize = 6;
const PACK_TYPE: usize = 7;
const SKU: usize = 8;
const QTY: usize = 9;
const VALUE: usize = 10;

impl<'r> Validator<'r> {
    /// A validator for files in `layout`; dates after `today` are refused.
    pub fn new(
        layout: Layout,
        reference: &'r Reference,
        allow_new_values: bool,
        today: NaiveDate,
    ) -> Self {
        let names = layout.columns.headers().map(str::to_owned);
        Self {
            layout,
            reference,
            allow_new_values,
            earliest: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN),
            today,
            header: None,
            names,
            out: Validated::default(),
            area_ids: HashMap::new(),
            outlet_ids: HashMap::new(),
            sku_ids: HashMap::new(),
            seen: HashMap::new(),
            unknown: HashMap::new(),
            key: String::new(),
        }
    }

    /// The outcome; a file without even a header is fatal.
    pub fn finish(mut self) -> Validated {
        if self.header.is_none() && !self.out.fatal {
            self.out.fatal = true;
            self.out.errors.push(RowIssue {
                row: 1,
                column: self.names[DATE].clone(),
                reason: "the file is empty: no header row".to_owned(),
            });
        }
        self.out
    }

    /// Checks one row (the first one is the header).
    pub fn row(&mut self, row: usize, cells: &[Cell<'_>]) {
        let Some(columns) = self.header else {
            self.read_header(row, cells);
            return;
        };
        self.out.rows_total += 1;
        if self.out.fatal {
            return;
        }
        let errors_before = self.out.errors.len();
        let cell = |field: usize| cells.get(columns[field]).copied().unwrap_or(Cell::Empty);

        let day = match parse_date(cell(DATE), self.layout.date_format) {
            Ok(date) if date > self.today => Err(format!("{date} is in the future")),
            Ok(date) if date < self.earliest => Err(format!("{date} is before 1990")),
            Ok(date) => Ok(day_of(date)),
            Err(reason) => Err(reason),
        };
        let day = self.check(row, DATE, day);
        let mut texts: [Option<TextValue<'_>>; 11] = Default::default();
        for field in [
            REGION,
            PROVINCE,
            AREA,
            OUTLET_CODE,
            OUTLET_NAME,
            CHANNEL,
            PACK_TYPE,
            SKU,
        ] {
            let value = text_of(cell(field));
            texts[field] = self.check(row, field, value);
        }
        let qty = parse_amount(cell(QTY), MAX_QTY, "quantity");
        let qty = self.check(row, QTY, qty);
        let value = parse_amount(cell(VALUE), MAX_VALUE, "value");
        let value = self.check(row, VALUE, value);
        if let Some(region) = &texts[REGION] {
            self.check_known(row, REGION, region.as_str());
        }
        if let Some(pack) = &texts[PACK_TYPE] {
            self.check_known(row, PACK_TYPE, pack.as_str());
        }
        let (
            Some(day),
            Some(qty),
            Some(value),
            [
                _,
                Some(region),
                Some(province),
                Some(area),
                Some(code),
                Some(name),
                Some(channel),
                Some(pack),
                Some(sku),
                _,
                _,
            ],
        ) = (day, qty, value, &texts)
        else {
            self.out.rows_invalid += 1;
            return;
        };
        if self.out.errors.len() > errors_before {
            self.out.rows_invalid += 1;
            return;
        }

        // The same outlet must keep its name, channel and area within a file, and a SKU
        // its pack type: the file would otherwise contradict itself.
        self.key.clear();
        for part in [region.as_str(), province.as_str(), area.as_str()] {
            self.key.push_str(part);
            self.key.push('\u{1f}');
        }
        let area_id = self.area_ids.get(self.key.as_str()).copied();
        let outlet_id = self.outlet_ids.get(code.as_str()).copied();
        if let Some(oi) = outlet_id {
            let o = &self.out.batch.outlets[oi as usize];
            let o_row = self.out.outlet_rows[oi as usize];
            let (field, first) = if o.name != name.as_str() {
                (OUTLET_NAME, format!("named `{}`", o.name))
            } else if o.channel != channel.as_str() {
                (CHANNEL, format!("in channel `{}`", o.channel))
            } else if Some(o.area) != area_id {
                let a = &self.out.batch.areas[o.area as usize];
                (
                    AREA,
                    format!("in {} / {} / {}", a.region, a.province, a.precision_area),
                )
            } else {
                (usize::MAX, String::new())
            };
            if field != usize::MAX {
                let reason = format!("outlet `{}` is {first} on row {o_row}", o.code);
                self.issue(row, field, reason);
            }
        }
        let sku_id = self.sku_ids.get(sku.as_str()).copied();
        if let Some(si) = sku_id
            && self.out.batch.skus[si as usize].pack_type != pack.as_str()
        {
            let s = &self.out.batch.skus[si as usize];
            let reason = format!(
                "SKU `{}` has pack type `{}` on row {}",
                s.sku, s.pack_type, self.out.sku_rows[si as usize]
            );
            self.issue(row, PACK_TYPE, reason);
        }
        if let (Some(o), Some(s)) = (outlet_id, sku_id)
            && let Some(first) = self.seen.get(&(day, o, s))
        {
            let reason = format!("duplicate of row {first} (same outlet, SKU and date)");
            self.issue(row, SKU, reason);
        }
        if self.out.errors.len() > errors_before {
            self.out.rows_invalid += 1;
            return;
        }

        let area_id = match area_id {
            Some(id) => id,
            None => {
                let id = self.out.batch.areas.len() as u32;
                self.out.batch.areas.push(BatchArea {
                    region: region.to_string(),
                    province: province.to_string(),
                    precision_area: area.to_string(),
                });
                self.area_ids.insert(self.key.clone(), id);
                id
            }
        };
        let outlet_id = match outlet_id {
            Some(id) => id,
            None => {
                let id = self.out.batch.outlets.len() as u32;
                self.out.batch.outlets.push(BatchOutlet {
                    code: code.to_string(),
                    name: name.to_string(),
                    channel: channel.to_string(),
                    area: area_id,
                });
                self.out.outlet_rows.push(row);
                self.outlet_ids.insert(code.to_string(), id);
                id
            }
        };
        let sku_id = match sku_id {
            Some(id) => id,
            None => {
                let id = self.out.batch.skus.len() as u32;
                self.out.batch.skus.push(BatchSku {
                    sku: sku.to_string(),
                    pack_type: pack.to_string(),
                });
                self.out.sku_rows.push(row);
                self.sku_ids.insert(sku.to_string(), id);
                id
            }
        };
        self.seen.insert((day, outlet_id, sku_id), row as u32);
        self.out.first_day = Some(self.out.first_day.map_or(day, |d| d.min(day)));
        self.out.last_day = Some(self.out.last_day.map_or(day, |d| d.max(day)));
        self.out.batch.facts.push(BatchFact {
            day,
            outlet: outlet_id,
            sku: sku_id,
            qty_scaled: qty,
            value_scaled: value,
        });
    }

    fn read_header(&mut self, row: usize, cells: &[Cell<'_>]) {
        let header: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) => (*s).to_owned(),
                Cell::Number(n) => n.to_string(),
                _ => String::new(),
            })
            .collect();
        match self.layout.locate(&header) {
            Ok(columns) => {
                // Report cells under the file's own spelling of each header.
                for (name, i) in self.names.iter_mut().zip(columns) {
                    if let Some(h) = header.get(i) {
                        *name = h.trim().to_owned();
                    }
                }
                self.header = Some(columns);
            }
            Err(missing) => {
                self.header = Some([0; 11]);
                self.out.fatal = true;
                for column in missing {
                    self.out.errors.push(RowIssue {
                        row,
                        column,
                        reason: format!(
                            "required column is missing (mapping `{}`)",
                            self.layout.name
                        ),
                    });
                }
            }
        }
    }

    fn issue(&mut self, row: usize, field: usize, reason: String) {
        self.out.errors.push(RowIssue {
            row,
            column: self.names[field].clone(),
            reason,
        });
    }

    fn check<T>(&mut self, row: usize, field: usize, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.issue(row, field, reason);
                None
            }
        }
    }

    /// A region or pack type outside the reference list: an error, or one warning per
    /// value with `allow_new_values`.
    fn check_known(&mut self, row: usize, field: usize, value: &str) {
        let list = if field == REGION {
            &self.reference.regions
        } else {
            &self.reference.pack_types
        };
        if list.is_empty() || list.contains(value) {
            return;
        }
        let what = if field == REGION {
            "region"
        } else {
            "pack type"
        };
        let key = (field == REGION, value.to_owned());
        let first_time = !self.unknown.contains_key(&key);
        let suggestion = self
            .unknown
            .entry(key)
            .or_insert_with(|| closest(value, list))
            .clone();
        let mut reason = format!("`{value}` is not a known {what}");
        if let Some(s) = suggestion {
            reason.push_str(&format!(" (did you mean `{s}`?)"));
        }
        if self.allow_new_values {
            if first_time {
                reason.push_str("; accepted as new");
                self.out.warnings.push(RowIssue {
                    row,
                    column: self.names[field].clone(),
                    reason,
                });
            }
        } else {
            self.issue(row, field, reason);
        }
    }
}

/// The known value nearest to `value` (edit distance at most 3, or the same ignoring
/// case), if any.
fn closest(value: &str, known: &HashSet<String>) -> Option<String> {
    let lower = value.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 3)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, k)| k.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Text of a cell: borrowed, or a number written as text (a numeric SKU or code).
enum TextValue<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl TextValue<'_> {
    fn as_str(&self) -> &str {
        match self {
            TextValue::Borrowed(s) => s,
            TextValue::Owned(s) => s,
        }
    }
}

impl std::fmt::Display for TextValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn text_of<'a>(cell: Cell<'a>) -> Result<TextValue<'a>, String> {
    let text = match cell {
        Cell::Empty => return Err("is required".to_owned()),
        Cell::Text(s) => TextValue::Borrowed(s),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
            TextValue::Owned(format!("{}", n as i64))
        }
        Cell::Number(n) => TextValue::Owned(n.to_string()),
        Cell::Date(d) => TextValue::Owned(d.to_string()),
        Cell::Bool(b) => TextValue::Owned(if b { "TRUE" } else { "FALSE" }.to_owned()),
        Cell::Error => return Err("is an error cell (such as #N/A)".to_owned()),
    };
    if text.as_str().chars().count() > MAX_TEXT {
        return Err(format!("is longer than {MAX_TEXT} characters"));
    }
    Ok(text)
}

/// A date cell, an Excel serial number, or text in ISO or the mapping's format.
pub fn parse_date(cell: Cell<'_>, format: DateFormat) -> Result<NaiveDate, String> {
    match cell {
        Cell::Empty => Err("is required".to_owned()),
        Cell::Date(d) => Ok(d),
        // Serial days since 1899-12-30 (the 1900 system, as Excel counts past its 1900
        // leap-year bug); the fraction is a time of day.
        Cell::Number(n) if (1.0..2_958_466.0).contains(&n) => NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|base| base.checked_add_days(chrono::Days::new(n.floor() as u64)))
            .ok_or_else(|| format!("`{n}` is not a date")),
        Cell::Number(n) => Err(format!("`{n}` is not a date")),
        Cell::Text(s) => parse_text_date(s, format).ok_or_else(|| {
            let expected = match format {
                DateFormat::Iso => "YYYY-MM-DD",
                DateFormat::DayFirst => "DD/MM/YYYY",
                DateFormat::MonthFirst => "MM/DD/YYYY",
            };
            format!("`{s}` is not a date (expected {expected})")
        }),
        Cell::Bool(_) | Cell::Error => Err("is not a date".to_owned()),
    }
}

fn parse_text_date(s: &str, format: DateFormat) -> Option<NaiveDate> {
    // A time part is allowed only at midnight: "2024-01-31 00:00:00" is how many tools
    // export a date, while "14:30" means the column is not a day.
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    if let Some(time) = time
        && !time.is_empty()
        && !time
            .trim_end_matches('Z')
            .chars()
            .all(|c| c == '0' || c == ':' || c == '.')
    {
        return None;
    }
    let numbers = |sep: char| -> Option<(u32, u32, u32)> {
        let mut parts = date.split(sep);
        let a = parts.next()?.parse().ok()?;
        let b = parts.next()?.parse().ok()?;
        let c = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some((a, b, c))
    };
    // ISO is always understood: a file mixing exports is common, and it is unambiguous.
    if let Some((y, m, d)) = numbers('-')
        && date.len() >= 8
        && date.find('-') == Some(4)
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    let (a, b, y) = numbers('/').or_else(|| numbers('.'))?;
    if y < 1000 {
        return None;
    }
    match format {
        DateFormat::Iso => None,
        DateFormat::DayFirst => NaiveDate::from_ymd_opt(y as i32, b, a),
        DateFormat::MonthFirst => NaiveDate::from_ymd_opt(y as i32, a, b),
    }
}

/// A quantity or value cell as an integer × 10,000: a number ≥ 0, at most `max`, with
/// at most 4 decimals.
pub fn parse_amount(cell: Cell<'_>, max: i64, what: &str) -> Result<i64, String> {
    let scaled = match cell {
        Cell::Empty => return Err("is required".to_owned()),
        Cell::Number(n) => {
            if !n.is_finite() {
                return Err("is not a number".to_owned());
            }
            if n < 0.0 {
                return Err(format!("{n} is negative"));
            }
            if n > max as f64 {
                return Err(format!(
                    "{n} is more than the largest {what} accepted ({max})"
                ));
            }
            let scaled = (n * SCALE as f64).round();
            // A spreadsheet number carries binary noise (0.1 + 0.2); only a real fifth
            // decimal is refused.
            if (scaled - n * SCALE as f64).abs() > 1e-6 * scaled.abs().max(1.0) {
                return Err(format!("{n} has more than 4 decimals"));
            }
            scaled as i64
        }
        Cell::Text(s) => parse_scaled(s).map_err(|e| match e {
            AmountError::NotNumber => format!("`{s}` is not a number"),
            AmountError::Negative => format!("{s} is negative"),
            AmountError::Decimals => format!("{s} has more than 4 decimals"),
            AmountError::TooLarge => {
                format!("{s} is more than the largest {what} accepted ({max})")
            }
        })?,
        Cell::Date(_) | Cell::Bool(_) => return Err("is not a number".to_owned()),
        Cell::Error => return Err("is an error cell (such as #N/A)".to_owned()),
    };
    if scaled > max * SCALE {
        return Err(format!(
            "{} is more than the largest {what} accepted ({max})",
            scaled / SCALE
        ));
    }
    Ok(scaled)
}

enum AmountError {
    NotNumber,
    Negative,
    Decimals,
    TooLarge,
}

/// `12`, `12.5`, `+0.1250` → × 10,000, without going through floating point.
fn parse_scaled(s: &str) -> Result<i64, AmountError> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(AmountError::NotNumber);
    }
    let significant = fraction.trim_end_matches('0');
    if significant.len() > 4 {
        return Err(AmountError::Decimals);
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 14 {
        return Err(AmountError::TooLarge);
    }
    let mut value: i64 = 0;
    for b in whole.bytes() {
        value = value * 10 + i64::from(b - b'0');
    }
    let mut fraction_value: i64 = 0;
    for i in 0..4 {
        let digit = significant
            .as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b - b'0'));
        fraction_value = fraction_value * 10 + digit;
    }
    let scaled = value * SCALE + fraction_value;
    if negative && scaled != 0 {
        return Err(AmountError::Negative);
    }
    Ok(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell<'_> {
        Cell::Text(s)
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).expect("date")
    }

    fn header() -> Vec<Cell<'static>> {
        [
            "Date",
            "Region",
            "Province",
            "Precision Area",
            "Outlet Code",
            "Outlet Name",
            "Channel",
            "Pack Type",
            "SKU",
            "Sales Qty",
            "Sales Value",
        ]
        .into_iter()
        .map(Cell::Text)
        .collect()
    }

    fn row<'a>(
        date: &'a str,
        region: &'a str,
        outlet: &'a str,
        sku: &'a str,
        qty: &'a str,
    ) -> Vec<Cell<'a>> {
        vec![
            t(date),
            t(region),
            t("Accra"),
            t("Osu"),
            t(outlet),
            t("Kiosk"),
            t("Retail"),
            t("Can"),
            t(sku),
            t(qty),
            t("10.50"),
        ]
    }

    #[test]
    fn amounts_are_exact_and_bounded() {
        assert_eq!(parse_amount(t("12.5"), MAX_QTY, "quantity"), Ok(125_000));
        assert_eq!(parse_amount(t("0"), MAX_QTY, "quantity"), Ok(0));
        assert_eq!(parse_amount(t("1.00000"), MAX_QTY, "quantity"), Ok(10_000));
        assert_eq!(
            parse_amount(Cell::Number(0.3), MAX_QTY, "quantity"),
            Ok(3_000)
        );
        assert!(parse_amount(t("-1"), MAX_QTY, "quantity").is_err());
        assert!(parse_amount(t("1.23456"), MAX_QTY, "quantity").is_err());
        assert!(parse_amount(t("abc"), MAX_QTY, "quantity").is_err());
        assert!(parse_amount(t("10000001"), MAX_QTY, "quantity").is_err());
        assert!(parse_amount(Cell::Number(1.234_56), MAX_QTY, "quantity").is_err());
        assert!(parse_amount(Cell::Empty, MAX_QTY, "quantity").is_err());
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let jan31 = NaiveDate::from_ymd_opt(2024, 1, 31).expect("date");
        assert_eq!(parse_date(t("2024-01-31"), DateFormat::Iso), Ok(jan31));
        assert_eq!(
            parse_date(t("2024-01-31 00:00:00"), DateFormat::Iso),
            Ok(jan31)
        );
        assert_eq!(parse_date(t("31/01/2024"), DateFormat::DayFirst), Ok(jan31));
        assert_eq!(
            parse_date(t("01/31/2024"), DateFormat::MonthFirst),
            Ok(jan31)
        );
        assert_eq!(
            parse_date(Cell::Number(45322.0), DateFormat::Iso),
            Ok(jan31)
        );
        assert!(parse_date(t("31/01/2024"), DateFormat::Iso).is_err());
        assert!(parse_date(t("2024-02-30"), DateFormat::Iso).is_err());
        assert!(parse_date(t("2024-01-31 14:30"), DateFormat::Iso).is_err());
        assert_eq!(day_of(NaiveDate::from_ymd_opt(1970, 1, 2).expect("d")), 1);
    }

    #[test]
    fn bad_cells_duplicates_and_typos_are_reported_by_row_and_column() {
        let reference = Reference {
            regions: HashSet::from(["Greater Accra".to_owned(), "Ashanti".to_owned()]),
            pack_types: HashSet::new(),
        };
        let mut v = Validator::new(Layout::sheet6(), &reference, false, today());
        v.row(1, &header());
        v.row(2, &row("2024-01-01", "Greater Accra", "O1", "S1", "5"));
        v.row(3, &row("2024-01-01", "Greater Accra", "O1", "S1", "7"));
        v.row(4, &row("2024-13-01", "Greater Acra", "O2", "S1", "x"));
        v.row(5, &row("2024-01-02", "Ashanti", "O2", "S1", "0"));
        let out = v.finish();
        assert_eq!(out.rows_total, 4);
        assert_eq!(out.rows_invalid, 2);
        let lines: Vec<String> = out
            .errors
            .iter()
            .map(|e| format!("row {}, column {}: {}", e.row, e.column, e.reason))
            .collect();
        assert_eq!(
            lines,
            [
                "row 3, column SKU: duplicate of row 2 (same outlet, SKU and date)",
                "row 4, column Date: `2024-13-01` is not a date (expected YYYY-MM-DD)",
                "row 4, column Sales Qty: `x` is not a number",
                "row 4, column Region: `Greater Acra` is not a known region (did you mean `Greater Accra`?)",
            ]
        );
        assert_eq!(
            out.batch.facts.len(),
            2,
            "rows 2 and 5, the zero sale included"
        );
        assert_eq!(out.batch.facts[1].qty_scaled, 0);
        assert_eq!(out.batch.outlets.len(), 2);
        assert_eq!(out.batch.areas.len(), 2);
    }

    #[test]
    fn new_values_are_warnings_when_allowed_and_outlets_stay_consistent() {
        let reference = Reference {
            regions: HashSet::from(["Ashanti".to_owned()]),
            pack_types: HashSet::new(),
        };
        let mut v = Validator::new(Layout::sheet6(), &reference, true, today());
        v.row(1, &header());
        v.row(2, &row("2024-01-01", "Volta", "O1", "S1", "5"));
        v.row(3, &row("2024-01-02", "Volta", "O1", "S1", "5"));
        v.row(4, &row("2024-01-03", "Ashanti", "O1", "S1", "5"));
        v.row(5, &row("2030-01-03", "Ashanti", "O9", "S1", "5"));
        let out = v.finish();
        assert_eq!(out.warnings.len(), 1, "one warning per new value");
        assert_eq!(out.warnings[0].row, 2);
        assert_eq!(out.errors.len(), 2);
        assert_eq!(out.errors[0].row, 4);
        assert_eq!(out.errors[0].column, "Precision Area");
        assert!(
            out.errors[0].reason.contains("on row 2"),
            "{:?}",
            out.errors[0]
        );
        assert_eq!(out.errors[1].reason, "2030-01-03 is in the future");
    }

    #[test]
    fn missing_columns_are_fatal_and_named_on_row_1() {
        let reference = Reference::default();
        let mut v = Validator::new(Layout::sheet6(), &reference, false, today());
        let mut cells = header();
        cells.remove(9);
        v.row(1, &cells);
        v.row(2, &row("2024-01-01", "Volta", "O1", "S1", "5"));
        let out = v.finish();
        assert!(out.fatal);
        assert_eq!(out.rows_total, 1);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(
            (out.errors[0].row, out.errors[0].column.as_str()),
            (1, "Sales Qty")
        );
    }

    #[test]
    fn typos_find_their_nearest_known_value() {
        let known = HashSet::from(["Greater Accra".to_owned(), "Volta".to_owned()]);
        assert_eq!(
            closest("Greater Acra", &known).as_deref(),
            Some("Greater Accra")
        );
        assert_eq!(closest("volta", &known).as_deref(), Some("Volta"));
        assert_eq!(closest("Northern", &known), None);
    }
}
