//! `meridian forecast` and `meridian anomalies`: the insight crate on CSV files.
//!
//! Input is the long format of the Python forecasting ecosystem (`unique_id, ds, y`);
//! the shared data's `series_id, t, value` and NAB's `timestamp, value` are detected
//! too. `ds` may be an integer index, a date (`YYYY-MM-DD` or `YYYY-MM`) or a
//! datetime. Series are processed in parallel (rayon); the output is written to a
//! temporary file beside the target and renamed at the end, so a failed run never
//! leaves a half-written file.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use insight::anomaly::{AnomalyMethod, AnomalySpec};
use insight::{ForecastSpec, ModelChoice};
use rayon::prelude::*;

/// Why a CLI run failed. Every message names the file, and for bad data the line and
/// column, so the user can fix the input without guessing.
#[derive(Debug, thiserror::Error)]
pub enum InsightCliError {
    /// The input could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Input path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Output path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (unbalanced quotes, ragged rows...).
    #[error("{path}: {source}")]
    Csv {
        /// Input path.
        path: PathBuf,
        /// Underlying error.
        source: csv::Error,
    },
    /// A needed column is missing.
    #[error("{path}: no {role} column (looked for {wanted}); the header has: {header}")]
    MissingColumn {
        /// Input path.
        path: PathBuf,
        /// Which role (id, time, value).
        role: &'static str,
        /// Names tried.
        wanted: String,
        /// Columns present.
        header: String,
    },
    /// A data row is wrong.
    #[error("{path}, line {line}, column `{column}`: {problem}")]
    BadRow {
        /// Input path.
        path: PathBuf,
        /// 1-based line in the file.
        line: u64,
        /// Column name as in the header.
        column: String,
        /// What is wrong.
        problem: String,
    },
    /// The model refused a series.
    #[error("series `{id}`: {source}")]
    Model {
        /// Series id.
        id: String,
        /// Why.
        source: insight::InsightError,
    },
    /// The arguments make no sense together.
    #[error("{0}")]
    Usage(String),
}

/// Column selection shared by both subcommands.
#[derive(Args, Debug, Clone, Default)]
pub struct ColumnArgs {
    /// Series id column (default: unique_id, series_id, id, series or item_id; none =
    /// the whole file is one series named after the file).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Time column (default: ds, t, timestamp, date, datetime, time or month).
    #[arg(long)]
    pub time_column: Option<String>,
    /// Value column (default: y, value or target, else the only other column).
    #[arg(long)]
    pub value_column: Option<String>,
}

/// Models for `meridian forecast`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelArg {
    /// Every model plus the ensemble, one row set each.
    #[default]
    Auto,
    /// AutoETS.
    Ets,
    /// AutoTheta.
    Theta,
    /// Croston (optimised), SBA and TSB.
    Croston,
    /// Combination of AutoETS and AutoTheta (SBA and TSB for intermittent series).
    Ensemble,
    /// Seasonal naive.
    Naive,
}

/// `meridian forecast`.
#[derive(Args, Debug, Clone)]
pub struct ForecastArgs {
    /// Input CSV in long format.
    #[arg(long)]
    pub input: PathBuf,
    /// Output CSV: unique_id, ds, model, mean, lo_80, hi_80, lo_95, hi_95.
    #[arg(long)]
    pub output: PathBuf,
    /// Steps to forecast.
    #[arg(long)]
    pub horizon: usize,
    /// Season length (e.g. 12 for monthly data); detected per series when absent.
    #[arg(long)]
    pub season_length: Option<usize>,
    /// Which model(s).
    #[arg(long, value_enum, default_value_t = ModelArg::Auto)]
    pub model: ModelArg,
    /// Interval levels in percent, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = vec![80.0, 95.0])]
    pub level: Vec<f64>,
    /// Column names.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// Detectors for `meridian anomalies`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodArg {
    /// Robust seasonal residuals plus level shifts.
    #[default]
    Auto,
    /// Robust z-score (median/MAD) of seasonal residuals.
    Mad,
    /// Streaming EWMA z-score.
    Ewma,
    /// Isolation forest.
    Iforest,
}

/// `meridian anomalies`.
#[derive(Args, Debug, Clone)]
pub struct AnomaliesArgs {
    /// Input CSV in long format.
    #[arg(long)]
    pub input: PathBuf,
    /// Output CSV: unique_id, ds, y, score, is_anomaly, reason.
    #[arg(long)]
    pub output: PathBuf,
    /// Detector.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Season length; detected per series when absent.
    #[arg(long)]
    pub season_length: Option<usize>,
    /// Robust z-score beyond which a point is flagged.
    #[arg(long, default_value_t = 4.0)]
    pub threshold: f64,
    /// Column names.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// How the time column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeKind {
    /// Integer index.
    Int,
    /// `YYYY-MM`; key = months since year 0.
    Month,
    /// `YYYY-MM-DD`; key = days since 0001-01-01.
    Date,
    /// Datetime; key = seconds since the Unix epoch.
    DateTime,
}

/// One input series.
#[derive(Debug, Default)]
struct Series {
    id: String,
    /// (key, raw ds text, value, line)
    rows: Vec<(i64, String, f64, u64)>,
}

#[derive(Debug)]
struct Table {
    kind: TimeKind,
    series: Vec<Series>,
}

fn parse_time(s: &str) -> Option<(TimeKind, i64)> {
    if let Ok(i) = s.parse::<i64>() {
        return Some((TimeKind::Int, i));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some((TimeKind::Date, i64::from(d.num_days_from_ce())));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((TimeKind::DateTime, dt.and_utc().timestamp()));
        }
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some((TimeKind::DateTime, dt.timestamp()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d") {
        return Some((
            TimeKind::Month,
            i64::from(d.year()) * 12 + i64::from(d.month0()),
        ));
    }
    None
}

fn kind_name(k: TimeKind) -> &'static str {
    match k {
        TimeKind::Int => "an integer index",
        TimeKind::Month => "a month (YYYY-MM)",
        TimeKind::Date => "a date",
        TimeKind::DateTime => "a datetime",
    }
}

fn find_column(
    header: &csv::StringRecord,
    explicit: Option<&str>,
    names: &[&str],
) -> Result<Option<usize>, String> {
    // Spreadsheet exports often start with a UTF-8 byte-order mark.
    let pos = |n: &str| {
        header.iter().position(|h| {
            h.trim_start_matches('\u{feff}')
                .trim()
                .eq_ignore_ascii_case(n)
        })
    };
    match explicit {
        Some(name) => pos(name).map(Some).ok_or_else(|| format!("`{name}`")),
        None => Ok(names.iter().find_map(|n| pos(n))),
    }
}

fn read_table(path: &Path, cols: &ColumnArgs) -> Result<Table, InsightCliError> {
    let file = std::fs::File::open(path).map_err(|source| InsightCliError::Read {
        path: path.into(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let csv_err = |source| InsightCliError::Csv {
        path: path.into(),
        source,
    };
    let header = rdr.headers().map_err(csv_err)?.clone();
    let header_text = header.iter().collect::<Vec<_>>().join(", ");
    let missing = |role: &'static str, wanted: String| InsightCliError::MissingColumn {
        path: path.into(),
        role,
        wanted,
        header: header_text.clone(),
    };
    const IDS: &[&str] = &["unique_id", "series_id", "id", "series", "item_id"];
    const TIMES: &[&str] = &["ds", "t", "timestamp", "date", "datetime", "time", "month"];
    const VALUES: &[&str] = &["y", "value", "target"];
    let id_col =
        find_column(&header, cols.id_column.as_deref(), IDS).map_err(|w| missing("id", w))?;
    let time_col = find_column(&header, cols.time_column.as_deref(), TIMES)
        .map_err(|w| missing("time", w))?
        .ok_or_else(|| missing("time", TIMES.join("/")))?;
    let value_col = match find_column(&header, cols.value_column.as_deref(), VALUES)
        .map_err(|w| missing("value", w))?
    {
        Some(c) => c,
        None => {
            // `Month,Passengers`-style files: the one column that is neither id nor time.
            let rest: Vec<usize> = (0..header.len())
                .filter(|&c| Some(c) != id_col && c != time_col)
                .collect();
            match rest.as_slice() {
                [only] => *only,
                _ => return Err(missing("value", VALUES.join("/"))),
            }
        }
    };
    let col_name = |c: usize| header.get(c).unwrap_or("?").to_string();
    let default_id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "series".into());
    let mut kind: Option<TimeKind> = None;
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Series> = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map_or(0, |p| p.line());
        let bad = |c: usize, problem: String| InsightCliError::BadRow {
            path: path.into(),
            line,
            column: col_name(c),
            problem,
        };
        let id = match id_col {
            Some(c) => {
                let v = rec.get(c).unwrap_or("");
                if v.is_empty() {
                    return Err(bad(c, "missing series id".into()));
                }
                v.to_string()
            }
            None => default_id.clone(),
        };
        let ds = rec.get(time_col).unwrap_or("");
        let (k, key) = parse_time(ds).ok_or_else(|| {
            bad(
                time_col,
                format!(
                    "`{ds}` is not an integer index, a date (YYYY-MM-DD, YYYY-MM) or a datetime"
                ),
            )
        })?;
        match kind {
            None => kind = Some(k),
            Some(prev) if prev != k => {
                return Err(bad(
                    time_col,
                    format!(
                        "`{ds}` is {} but earlier rows hold {}",
                        kind_name(k),
                        kind_name(prev)
                    ),
                ));
            }
            Some(_) => {}
        }
        let raw = rec.get(value_col).unwrap_or("");
        if raw.is_empty() {
            return Err(bad(value_col, "missing value".into()));
        }
        let y: f64 = raw
            .parse()
            .map_err(|_| bad(value_col, format!("`{raw}` is not a number")))?;
        if !y.is_finite() {
            return Err(bad(value_col, format!("`{raw}` is not a finite number")));
        }
        let slot = *index.entry(id.clone()).or_insert_with(|| {
            series.push(Series {
                id: id.clone(),
                rows: Vec::new(),
            });
            series.len() - 1
        });
        series[slot].rows.push((key, ds.to_string(), y, line));
    }
    let kind =
        kind.ok_or_else(|| InsightCliError::Usage(format!("{}: no data rows", path.display())))?;
    for s in &mut series {
        s.rows.sort_by_key(|r| (r.0, r.3));
        if let Some(w) = s.rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(InsightCliError::BadRow {
                path: path.into(),
                line: w[1].3,
                column: col_name(time_col),
                problem: format!(
                    "duplicate timestamp `{}` for series `{}` (also on line {})",
                    w[1].1, s.id, w[0].3
                ),
            });
        }
    }
    Ok(Table { kind, series })
}

/// Spacing of a series, in the key's units or in months for dates on a fixed day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Units(i64),
    Months(i64),
}

fn mode_step(keys: &[i64]) -> i64 {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for w in keys.windows(2) {
        *counts.entry(w[1] - w[0]).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(d, c)| (c, -d))
        .map_or(1, |(d, _)| d.max(1))
}

fn series_step(kind: TimeKind, s: &Series) -> Step {
    let keys: Vec<i64> = s.rows.iter().map(|r| r.0).collect();
    if kind == TimeKind::Date && keys.len() >= 2 {
        let dates: Vec<NaiveDate> = keys
            .iter()
            .filter_map(|k| {
                i32::try_from(*k)
                    .ok()
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
            })
            .collect();
        let same_day = dates.len() == keys.len()
            && dates
                .iter()
                .all(|d| d.day() == dates[0].day() && d.day() <= 28);
        if same_day {
            let months: Vec<i64> = dates
                .iter()
                .map(|d| i64::from(d.year()) * 12 + i64::from(d.month0()))
                .collect();
            let m = mode_step(&months);
            if m >= 1 && keys.windows(2).all(|w| w[1] - w[0] >= 28) {
                return Step::Months(m);
            }
        }
    }
    Step::Units(mode_step(&keys))
}

/// Season-length candidates implied by the spacing (24 and 168 for hourly data...).
/// Empty means "no calendar hint": the library then searches every lag.
fn season_hints(kind: TimeKind, step: Step) -> Vec<usize> {
    let per = |period: i64, unit: i64| -> Option<usize> {
        (unit > 0 && period % unit == 0 && period / unit >= 2).then(|| (period / unit) as usize)
    };
    let v: Vec<Option<usize>> = match (kind, step) {
        (TimeKind::Int, _) => return Vec::new(),
        (TimeKind::Month, Step::Units(u)) | (_, Step::Months(u)) => vec![per(12, u)],
        (TimeKind::Date, Step::Units(u)) => vec![per(7, u), per(365, u)],
        (TimeKind::DateTime, Step::Units(u)) => vec![per(86_400, u), per(7 * 86_400, u)],
    };
    let out: Vec<usize> = v.into_iter().flatten().collect();
    if out.is_empty() { vec![1] } else { out }
}

fn season_for(y: &[f64], hints: &[usize]) -> Result<usize, insight::InsightError> {
    match hints {
        [] => insight::season::detect_season_length(y, None),
        [1] => Ok(1),
        h => insight::season::detect_season_length(y, Some(h)),
    }
}

fn format_key(kind: TimeKind, key: i64) -> String {
    match kind {
        TimeKind::Int => key.to_string(),
        TimeKind::Month => format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1),
        TimeKind::Date => i32::try_from(key)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map_or_else(|| key.to_string(), |d| d.format("%Y-%m-%d").to_string()),
        TimeKind::DateTime => chrono::DateTime::from_timestamp(key, 0).map_or_else(
            || key.to_string(),
            |d| d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
    }
}

fn future_ds(kind: TimeKind, step: Step, last: i64, h: usize) -> Vec<String> {
    (1..=h as i64)
        .map(|i| match step {
            Step::Units(u) => format_key(kind, last + i * u),
            Step::Months(m) => i32::try_from(last)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .and_then(|d| {
                    d.checked_add_months(chrono::Months::new(u32::try_from(i * m).unwrap_or(0)))
                })
                .map_or_else(
                    || (last + i).to_string(),
                    |d| d.format("%Y-%m-%d").to_string(),
                ),
        })
        .collect()
}

fn progress(n: usize) -> ProgressBar {
    // Only draw on a terminal: a bar in a log file or a pipe is noise.
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(n as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} series ({eta} left)")
    {
        pb.set_style(style);
    }
    pb
}

/// Writes `rows` to a temporary file beside `output`, then renames it into place.
fn write_atomically(
    output: &Path,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<(), InsightCliError> {
    let werr = |source| InsightCliError::Write {
        path: output.into(),
        source,
    };
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".meridian-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(werr)?;
    {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(tmp.as_file()));
        let to_io = |e: csv::Error| std::io::Error::other(e.to_string());
        w.write_record(header).map_err(|e| werr(to_io(e)))?;
        for r in rows {
            w.write_record(r).map_err(|e| werr(to_io(e)))?;
        }
        let mut inner = w
            .into_inner()
            .map_err(|e| werr(std::io::Error::other(e.to_string())))?;
        inner.flush().map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(output).map_err(|e| werr(e.error))?;
    Ok(())
}

fn fmt_level(l: f64) -> String {
    if l.fract() == 0.0 {
        format!("{l:.0}")
    } else {
        format!("{l}")
    }
}

/// Runs `meridian forecast`.
pub fn run_forecast(args: &ForecastArgs) -> Result<(), InsightCliError> {
    if args.horizon == 0 {
        return Err(InsightCliError::Usage(
            "--horizon must be at least 1".into(),
        ));
    }
    if args.season_length == Some(0) {
        return Err(InsightCliError::Usage(
            "--season-length must be at least 1".into(),
        ));
    }
    if let Some(l) = args
        .level
        .iter()
        .find(|l| !(l.is_finite() && **l > 0.0 && **l < 100.0))
    {
        return Err(InsightCliError::Usage(format!(
            "--level {l} is not strictly between 0 and 100"
        )));
    }
    let table = read_table(&args.input, &args.columns)?;
    let choice = match args.model {
        ModelArg::Auto => ModelChoice::Auto,
        ModelArg::Ets => ModelChoice::Ets,
        ModelArg::Theta => ModelChoice::Theta,
        ModelArg::Croston => ModelChoice::Croston,
        ModelArg::Ensemble => ModelChoice::Ensemble,
        ModelArg::Naive => ModelChoice::Naive,
    };
    let pb = progress(table.series.len());
    let kind = table.kind;
    let per_series: Result<Vec<Vec<Vec<String>>>, InsightCliError> = table
        .series
        .par_iter()
        .map(|s| {
            let y: Vec<f64> = s.rows.iter().map(|r| r.2).collect();
            let step = series_step(kind, s);
            let model_err = |source| InsightCliError::Model {
                id: s.id.clone(),
                source,
            };
            let m = match args.season_length {
                Some(m) => m,
                None => season_for(&y, &season_hints(kind, step)).map_err(model_err)?,
            };
            let spec = ForecastSpec {
                horizon: args.horizon,
                season_length: Some(m),
                levels: args.level.clone(),
            };
            let fcs = insight::forecast(&y, &spec, choice).map_err(model_err)?;
            let last = s.rows.last().map_or(0, |r| r.0);
            let ds = future_ds(kind, step, last, args.horizon);
            let mut rows = Vec::with_capacity(fcs.len() * args.horizon);
            for f in &fcs {
                for (i, d) in ds.iter().enumerate() {
                    let mut row = vec![
                        s.id.clone(),
                        d.clone(),
                        f.model.clone(),
                        f.mean[i].to_string(),
                    ];
                    for iv in &f.intervals {
                        row.push(iv.lower[i].to_string());
                        row.push(iv.upper[i].to_string());
                    }
                    rows.push(row);
                }
            }
            pb.inc(1);
            Ok(rows)
        })
        .collect();
    pb.finish_and_clear();
    let rows: Vec<Vec<String>> = per_series?.into_iter().flatten().collect();
    let mut header: Vec<String> = ["unique_id", "ds", "model", "mean"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for l in &args.level {
        header.push(format!("lo_{}", fmt_level(*l)));
        header.push(format!("hi_{}", fmt_level(*l)));
    }
    write_atomically(&args.output, &header, &rows)
}

/// Runs `meridian anomalies`.
pub fn run_anomalies(args: &AnomaliesArgs) -> Result<(), InsightCliError> {
    if !(args.threshold.is_finite() && args.threshold > 0.0) {
        return Err(InsightCliError::Usage(
            "--threshold must be a positive number".into(),
        ));
    }
    if args.season_length == Some(0) {
        return Err(InsightCliError::Usage(
            "--season-length must be at least 1".into(),
        ));
    }
    let table = read_table(&args.input, &args.columns)?;
    let method = match args.method {
        MethodArg::Auto => AnomalyMethod::Auto,
        MethodArg::Mad => AnomalyMethod::Mad,
        MethodArg::Ewma => AnomalyMethod::Ewma,
        MethodArg::Iforest => AnomalyMethod::IForest,
    };
    let pb = progress(table.series.len());
    let kind = table.kind;
    let per_series: Result<Vec<Vec<Vec<String>>>, InsightCliError> = table
        .series
        .par_iter()
        .map(|s| {
            let y: Vec<f64> = s.rows.iter().map(|r| r.2).collect();
            let model_err = |source| InsightCliError::Model {
                id: s.id.clone(),
                source,
            };
            let m = match args.season_length {
                Some(m) => m,
                // anomalies pick among the calendar's seasons by how much each explains
                None => match season_hints(kind, series_step(kind, s)).as_slice() {
                    [] => insight::anomaly::choose_season(&y, None),
                    [1] => Ok(1),
                    h => insight::anomaly::choose_season(&y, Some(h)),
                }
                .map_err(model_err)?,
            };
            let spec = AnomalySpec {
                method,
                season_length: Some(m),
                threshold: args.threshold,
            };
            let scores = insight::anomaly::detect(&y, &spec).map_err(model_err)?;
            let rows = s
                .rows
                .iter()
                .zip(&scores)
                .map(|(r, p)| {
                    vec![
                        s.id.clone(),
                        r.1.clone(),
                        r.2.to_string(),
                        format!("{:.6}", p.severity),
                        p.is_anomaly.to_string(),
                        p.reason.clone(),
                    ]
                })
                .collect();
            pb.inc(1);
            Ok(rows)
        })
        .collect();
    pb.finish_and_clear();
    let rows: Vec<Vec<String>> = per_series?.into_iter().flatten().collect();
    let header: Vec<String> = ["unique_id", "ds", "y", "score", "is_anomaly", "reason"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    write_atomically(&args.output, &header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write input");
        p
    }

    fn fargs(input: PathBuf, output: PathBuf, h: usize) -> ForecastArgs {
        ForecastArgs {
            input,
            output,
            horizon: h,
            season_length: None,
            model: ModelArg::Auto,
            level: vec![80.0, 95.0],
            columns: ColumnArgs::default(),
        }
    }

    fn aargs(input: PathBuf, output: PathBuf) -> AnomaliesArgs {
        AnomaliesArgs {
            input,
            output,
            method: MethodArg::Auto,
            season_length: None,
            threshold: 4.0,
            columns: ColumnArgs::default(),
        }
    }

    #[test]
    fn forecasts_shared_data_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = String::from("series_id,t,value\n");
        for id in ["a", "b"] {
            for t in 1..=36 {
                text.push_str(&format!("{id},{t},{}\n", 100 + (t % 12) * 5 + t));
            }
        }
        let input = write(dir.path(), "in.csv", &text);
        let output = dir.path().join("out.csv");
        let mut a = fargs(input, output.clone(), 4);
        a.season_length = Some(12);
        a.model = ModelArg::Ensemble;
        run_forecast(&a).expect("runs");
        let out = std::fs::read_to_string(&output).expect("output");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "unique_id,ds,model,mean,lo_80,hi_80,lo_95,hi_95");
        assert_eq!(lines.len(), 1 + 2 * 4);
        assert!(lines[1].starts_with("a,37,Ensemble,"), "{}", lines[1]);
        assert!(lines[8].starts_with("b,40,Ensemble,"), "{}", lines[8]);
    }

    #[test]
    fn monthly_dates_continue_by_month() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = String::from("unique_id,ds,y\n");
        for i in 0..30 {
            let (y, m) = (2020 + i / 12, i % 12 + 1);
            text.push_str(&format!("s,{y}-{m:02}-01,{}\n", 10 + i % 12));
        }
        let input = write(dir.path(), "in.csv", &text);
        let output = dir.path().join("out.csv");
        let mut a = fargs(input, output.clone(), 3);
        a.model = ModelArg::Naive;
        run_forecast(&a).expect("runs");
        let out = std::fs::read_to_string(&output).expect("output");
        assert!(out.contains("s,2022-07-01,SeasonalNaive"), "{out}");
        assert!(out.contains("s,2022-09-01,SeasonalNaive"), "{out}");
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let output = dir.path().join("out.csv");
        let cases = [
            (
                "unique_id,ds,y\na,2020-01-01,1\na,2020-13-45,2\n",
                "line 3, column `ds`",
            ),
            (
                "unique_id,ds,y\na,1,1\na,2,abc\n",
                "line 3, column `y`: `abc` is not a number",
            ),
            (
                "unique_id,ds,y\na,1,1\na,2,2\na,1,3\n",
                "duplicate timestamp `1`",
            ),
            ("unique_id,ds,y\na,1,1\na,2,NaN\n", "not a finite number"),
            (
                "unique_id,ds,y\na,1,1\na,2020-01-01,2\n",
                "earlier rows hold an integer index",
            ),
            ("foo,bar\n1,2\n", "no time column"),
        ];
        for (text, want) in cases {
            let input = write(dir.path(), "bad.csv", text);
            let err = run_forecast(&fargs(input, output.clone(), 2))
                .expect_err("must fail")
                .to_string();
            assert!(err.contains(want), "{err} does not contain {want}");
            assert!(!output.exists(), "no output on failure");
        }
        let leftovers = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok);
        assert!(
            leftovers
                .map(|e| e.file_name())
                .all(|n| !n.to_string_lossy().ends_with(".tmp"))
        );
    }

    #[test]
    fn byte_order_mark_and_crlf_are_accepted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = write(
            dir.path(),
            "in.csv",
            "\u{feff}unique_id,ds,y\r\na,1,1\r\na,2,2\r\na,3,3\r\n",
        );
        let output = dir.path().join("o.csv");
        let mut a = fargs(input, output.clone(), 1);
        a.model = ModelArg::Naive;
        run_forecast(&a).expect("runs");
        assert!(
            std::fs::read_to_string(&output)
                .expect("out")
                .contains("a,4,SeasonalNaive,3")
        );
    }

    #[test]
    fn duplicate_error_names_the_later_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = write(
            dir.path(),
            "in.csv",
            "unique_id,ds,y\na,1,1\nb,1,1\na,1,3\n",
        );
        let err = run_forecast(&fargs(input, dir.path().join("o.csv"), 2))
            .expect_err("dup")
            .to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("also on line 2"), "{err}");
    }

    #[test]
    fn anomalies_on_nab_style_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = String::from("timestamp,value\n");
        for i in 0..(24 * 14) {
            let day = 1 + i / 24;
            let hour = i % 24;
            let mut v = 50.0
                + 10.0 * ((hour as f64) / 24.0 * std::f64::consts::TAU).sin()
                + ((i * 7) % 5) as f64 * 0.3;
            if i == 200 {
                v += 40.0;
            }
            text.push_str(&format!("2014-01-{day:02} {hour:02}:00:00,{v}\n"));
        }
        let input = write(dir.path(), "machine.csv", &text);
        let output = dir.path().join("scores.csv");
        run_anomalies(&aargs(input, output.clone())).expect("runs");
        let out = std::fs::read_to_string(&output).expect("output");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "unique_id,ds,y,score,is_anomaly,reason");
        assert_eq!(lines.len(), 1 + 24 * 14);
        let spike = lines[201];
        assert!(spike.starts_with("machine,2014-01-09 08:00:00,"), "{spike}");
        assert!(spike.contains(",true,"), "{spike}");
        assert!(spike.contains("above the seasonal expectation"), "{spike}");
    }

    #[test]
    fn explicit_columns_and_missing_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = write(
            dir.path(),
            "in.csv",
            "k,when,amount\nx,1,3\nx,2,4\nx,3,5\nx,4,6\n",
        );
        let output = dir.path().join("o.csv");
        let mut a = fargs(input.clone(), output.clone(), 2);
        a.columns = ColumnArgs {
            id_column: Some("k".into()),
            time_column: Some("when".into()),
            value_column: Some("amount".into()),
        };
        a.model = ModelArg::Naive;
        run_forecast(&a).expect("runs");
        assert!(
            std::fs::read_to_string(&output)
                .expect("out")
                .contains("x,5,SeasonalNaive")
        );
        a.columns.value_column = Some("nope".into());
        let err = run_forecast(&a).expect_err("missing").to_string();
        assert!(
            err.contains("no value column") && err.contains("`nope`"),
            "{err}"
        );
    }

    #[test]
    fn season_hints_follow_the_calendar() {
        assert_eq!(
            season_hints(TimeKind::DateTime, Step::Units(3600)),
            vec![24, 168]
        );
        assert_eq!(
            season_hints(TimeKind::DateTime, Step::Units(300)),
            vec![288, 2016]
        );
        assert_eq!(season_hints(TimeKind::Month, Step::Units(1)), vec![12]);
        assert_eq!(season_hints(TimeKind::Date, Step::Months(3)), vec![4]);
        assert_eq!(
            season_hints(TimeKind::Int, Step::Units(1)),
            Vec::<usize>::new()
        );
    }
}
