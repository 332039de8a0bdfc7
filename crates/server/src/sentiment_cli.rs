//! `meridian sentiment`: VADER scores (`insight::sentiment`) for a text column of a CSV
//! file.
//!
//! The input needs a header; the output has one row per input row, in input order:
//! the id column (or the 1-based row number), `neg`, `neu`, `pos`, `compound` and the
//! label. Texts are scored in parallel (rayon) unless `--threads 1`; the output is
//! written to a temporary file beside the target and renamed at the end, so a failed
//! run never leaves a half-written file.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use insight::sentiment::{SentimentAnalyzer, SentimentScores};
use rayon::prelude::*;

/// `meridian sentiment`.
#[derive(Args, Debug, Clone)]
pub struct SentimentArgs {
    /// Input CSV with a header row.
    #[arg(long)]
    pub input: PathBuf,
    /// Output CSV: id (or row), neg, neu, pos, compound, label.
    #[arg(long)]
    pub output: PathBuf,
    /// Column holding the texts.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column copied to the output to identify each row (default: the row number).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Worker threads: 0 = every core (or RAYON_NUM_THREADS), 1 = one core.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Why `meridian sentiment` failed; each message is one line naming the file, and for
/// bad data the line.
#[derive(Debug, thiserror::Error)]
pub enum SentimentCliError {
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
    /// A column named on the command line is not in the header.
    #[error("{path}: no {role} column `{name}`; the header has: {header}")]
    MissingColumn {
        /// Input path.
        path: PathBuf,
        /// `text` or `id`.
        role: &'static str,
        /// Name looked for.
        name: String,
        /// Columns present.
        header: String,
    },
    /// A row of the CSV is malformed.
    #[error("{path}, line {line}: {problem}")]
    BadRow {
        /// Input path.
        path: PathBuf,
        /// 1-based line in the file where the row starts.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// The arguments make no sense.
    #[error("{0}")]
    Usage(String),
}

impl SentimentCliError {
    /// Process exit status: 2 when the command line does not fit the file (a missing
    /// column, bad arguments), 1 for bad data or I/O.
    pub fn exit_code(&self) -> u8 {
        match self {
            SentimentCliError::MissingColumn { .. } | SentimentCliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// The texts and ids of the input, each kept in one buffer (no allocation per row).
struct Table {
    text: String,
    texts: Vec<Range<usize>>,
    id_name: Option<String>,
    id: String,
    ids: Vec<Range<usize>>,
}

fn progress(len: u64, large: bool, template: &str) -> ProgressBar {
    // Only draw on a terminal, and only for large inputs: a bar in a log file or a pipe
    // is noise, and a small file is done before the bar is seen.
    let target = if large && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    pb
}

fn find_column(header: &csv::ByteRecord, name: &str) -> Option<usize> {
    // Spreadsheet exports often start with a UTF-8 byte-order mark.
    header.iter().position(|h| {
        String::from_utf8_lossy(h)
            .trim_start_matches('\u{feff}')
            .trim()
            .eq_ignore_ascii_case(name)
    })
}

fn csv_error(path: &Path, err: csv::Error) -> SentimentCliError {
    let line = err.position().map_or(0, csv::Position::line);
    let message = err.to_string();
    match err.into_kind() {
        csv::ErrorKind::Io(source) => SentimentCliError::Read {
            path: path.into(),
            source,
        },
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => SentimentCliError::BadRow {
            path: path.into(),
            line: pos.map_or(line, |p| p.line()),
            problem: format!("{len} field(s) where the header has {expected_len}"),
        },
        _ => SentimentCliError::BadRow {
            path: path.into(),
            line,
            problem: message,
        },
    }
}

fn read_table(args: &SentimentArgs) -> Result<Table, SentimentCliError> {
    let path = args.input.as_path();
    let file = std::fs::File::open(path).map_err(|source| SentimentCliError::Read {
        path: path.into(),
        source,
    })?;
    let size = file.metadata().map_or(0, |m| m.len());
    // The csv reader buffers by itself (a BufReader around it would copy every byte twice);
    // a large buffer means few read calls.
    let mut rdr = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let header = rdr.byte_headers().map_err(|e| csv_error(path, e))?.clone();
    let header_text = header
        .iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(", ");
    let missing = |role, name: &str| SentimentCliError::MissingColumn {
        path: path.into(),
        role,
        name: name.to_owned(),
        header: header_text.clone(),
    };
    let text_col = find_column(&header, &args.text_column)
        .ok_or_else(|| missing("text", &args.text_column))?;
    let id_col = match &args.id_column {
        Some(name) => Some(find_column(&header, name).ok_or_else(|| missing("id", name))?),
        None => None,
    };
    let mut table = Table {
        text: String::with_capacity(usize::try_from(size).unwrap_or(0)),
        texts: Vec::new(),
        id_name: id_col.and_then(|c| header.get(c)).map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_owned()
        }),
        id: String::new(),
        ids: Vec::new(),
    };
    let pb = progress(
        size,
        size >= 4 << 20,
        "{spinner} reading {bar:40} {bytes}/{total_bytes} ({eta} left)",
    );
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_error(path, e))?
    {
        let line = rec.position().map_or(0, csv::Position::line);
        let field = |c: usize| -> Result<&str, SentimentCliError> {
            std::str::from_utf8(rec.get(c).unwrap_or_default()).map_err(|_| {
                SentimentCliError::BadRow {
                    path: path.into(),
                    line,
                    problem: format!(
                        "column `{}` is not valid UTF-8",
                        String::from_utf8_lossy(header.get(c).unwrap_or_default())
                    ),
                }
            })
        };
        let start = table.text.len();
        table.text.push_str(field(text_col)?);
        table.texts.push(start..table.text.len());
        if let Some(c) = id_col {
            let start = table.id.len();
            table.id.push_str(field(c)?);
            table.ids.push(start..table.id.len());
        }
        if table.texts.len().is_multiple_of(4096) {
            pb.set_position(rec.position().map_or(0, csv::Position::byte));
        }
    }
    pb.finish_and_clear();
    Ok(table)
}

const ZERO: SentimentScores = SentimentScores {
    neg: 0.0,
    neu: 0.0,
    pos: 0.0,
    compound: 0.0,
};

fn score(table: &Table, threads: usize) -> Result<Vec<SentimentScores>, SentimentCliError> {
    let n = table.texts.len();
    let mut scores = vec![ZERO; n];
    let pb = progress(
        n as u64,
        n >= 100_000,
        "{spinner} scoring {bar:40} {pos}/{len} texts ({eta} left)",
    );
    const CHUNK: usize = 2048;
    let mut run = || {
        scores
            .par_chunks_mut(CHUNK)
            .zip(table.texts.par_chunks(CHUNK))
            .for_each_init(SentimentAnalyzer::new, |analyzer, (out, texts)| {
                for (o, r) in out.iter_mut().zip(texts) {
                    *o = analyzer.polarity_scores(&table.text[r.clone()]);
                }
                pb.inc(texts.len() as u64);
            });
    };
    match threads {
        0 => run(),
        // One core: the calling thread alone, no pool.
        1 => {
            let mut analyzer = SentimentAnalyzer::new();
            for (i, (o, r)) in scores.iter_mut().zip(&table.texts).enumerate() {
                *o = analyzer.polarity_scores(&table.text[r.clone()]);
                if i.is_multiple_of(CHUNK) {
                    pb.set_position(i as u64);
                }
            }
        }
        t => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| SentimentCliError::Usage(format!("--threads {t}: {e}")))?
            .install(run),
    }
    pb.finish_and_clear();
    Ok(scores)
}

/// Writes `x`, a score rounded to `decimals` places, as Python prints it (`0.0`, `1.0`,
/// `0.8316`); −0 is written as 0.
fn push_score(buf: &mut String, x: f64, decimals: u32) {
    let scale = 10u32.pow(decimals.min(9));
    let k = (x * f64::from(scale)).round();
    // A rounded score is the double nearest k / 10^d, whose shortest decimal form is
    // k / 10^d itself: write the digits directly instead of through float formatting
    // (an eighth of the run time). Anything else goes the general way.
    if k.abs() <= 1e9 && k / f64::from(scale) == x {
        let k = k as i64;
        let (int, frac) = (
            k.unsigned_abs() / u64::from(scale),
            k.unsigned_abs() % u64::from(scale),
        );
        if k < 0 {
            buf.push('-');
        }
        push_uint(buf, int);
        buf.push('.');
        if frac == 0 {
            buf.push('0');
        } else {
            let mut digits = [b'0'; 9];
            let d = (decimals as usize).min(digits.len());
            let mut f = frac;
            for slot in digits[..d].iter_mut().rev() {
                *slot = b'0' + (f % 10) as u8;
                f /= 10;
            }
            let end = digits[..d]
                .iter()
                .rposition(|&c| c != b'0')
                .map_or(1, |e| e + 1);
            buf.extend(digits[..end].iter().map(|&c| char::from(c)));
        }
        return;
    }
    let start = buf.len();
    let _ = write!(buf, "{}", x + 0.0);
    if !buf[start..].contains(['.', 'e', 'N', 'i']) {
        buf.push_str(".0");
    }
}

/// Writes a CSV field as `csv::Writer` does by default: quoted (with doubled quotes)
/// only when it holds a comma, a quote or a line break.
fn push_field(buf: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        buf.push('"');
        for part in field.split_inclusive('"') {
            buf.push_str(part);
            if part.ends_with('"') {
                buf.push('"');
            }
        }
        buf.push('"');
    } else {
        buf.push_str(field);
    }
}

/// Writes `n` in decimal.
fn push_uint(buf: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend(digits[at..].iter().map(|&c| char::from(c)));
}

fn write_output(
    args: &SentimentArgs,
    table: &Table,
    scores: &[SentimentScores],
) -> Result<(), SentimentCliError> {
    let output = args.output.as_path();
    let werr = |source| SentimentCliError::Write {
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
        // Written by hand rather than through `csv::Writer`: every field but the id is a
        // number or a label that never needs quoting, so a row is a few byte copies.
        let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
        let mut buf = String::with_capacity(64 * 1024);
        push_field(&mut buf, table.id_name.as_deref().unwrap_or("row"));
        buf.push_str(",neg,neu,pos,compound,label\n");
        for (i, s) in scores.iter().enumerate() {
            match table.ids.get(i) {
                Some(r) => push_field(&mut buf, &table.id[r.clone()]),
                None => push_uint(&mut buf, i as u64 + 1),
            }
            for (x, decimals) in [(s.neg, 3), (s.neu, 3), (s.pos, 3), (s.compound, 4)] {
                buf.push(',');
                push_score(&mut buf, x, decimals);
            }
            buf.push(',');
            buf.push_str(s.label().as_str());
            buf.push('\n');
            if buf.len() >= 60 * 1024 {
                w.write_all(buf.as_bytes()).map_err(werr)?;
                buf.clear();
            }
        }
        w.write_all(buf.as_bytes()).map_err(werr)?;
        w.flush().map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(output).map_err(|e| werr(e.error))?;
    Ok(())
}

/// Runs `meridian sentiment`.
pub fn run(args: &SentimentArgs) -> Result<(), SentimentCliError> {
    let table = read_table(args)?;
    let scores = score(&table, args.threads)?;
    write_output(args, &table, &scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path, input: &str, id: Option<&str>) -> SentimentArgs {
        std::fs::write(dir.join("in.csv"), input).expect("write");
        SentimentArgs {
            input: dir.join("in.csv"),
            output: dir.join("out.csv"),
            text_column: "text".into(),
            id_column: id.map(str::to_owned),
            threads: 1,
        }
    }

    #[test]
    fn scores_rows_in_order_with_ids_or_row_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input =
            "id,text\n7,\"VADER is smart, handsome, and funny!\"\n8,\n9,The book was not good.\n";
        let mut a = args(dir.path(), input, Some("id"));
        run(&a).expect("run");
        let out = std::fs::read_to_string(dir.path().join("out.csv")).expect("out");
        assert_eq!(
            out,
            "id,neg,neu,pos,compound,label\n\
             7,0.0,0.248,0.752,0.8439,positive\n\
             8,0.0,0.0,0.0,0.0,neutral\n\
             9,0.376,0.624,0.0,-0.3412,negative\n"
        );
        // Without an id column: row numbers; with threads: same scores.
        a.id_column = None;
        a.threads = 0;
        run(&a).expect("run");
        let out = std::fs::read_to_string(dir.path().join("out.csv")).expect("out");
        assert!(out.starts_with("row,neg,neu,pos,compound,label\n1,0.0,0.248"));
        assert!(out.contains("\n3,0.376,0.624,0.0,-0.3412,negative\n"));
    }

    #[test]
    fn scores_print_as_python_prints_them() {
        for (x, d, want) in [
            (0.0, 3, "0.0"),
            (-0.0, 4, "0.0"),
            (1.0, 3, "1.0"),
            (0.5, 3, "0.5"),
            (0.062, 3, "0.062"),
            (0.8316, 4, "0.8316"),
            (-0.765, 4, "-0.765"),
            (-0.0001, 4, "-0.0001"),
            (-1.0, 4, "-1.0"),
            (0.12345, 3, "0.12345"),
        ] {
            let mut buf = String::new();
            push_score(&mut buf, x, d);
            assert_eq!(buf, want, "{x}");
            // Same as the shortest round-trip form, which Python's repr also is.
            let mut general = format!("{}", x + 0.0);
            if !general.contains('.') {
                general.push_str(".0");
            }
            assert_eq!(buf, general, "{x}");
        }
    }

    #[test]
    fn fields_are_quoted_as_the_csv_crate_quotes_them() {
        for field in [
            "7",
            "",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "plain text",
        ] {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([field, "x"]).expect("write");
            let want = String::from_utf8(w.into_inner().expect("inner")).expect("utf8");
            let mut buf = String::new();
            push_field(&mut buf, field);
            buf.push_str(",x\n");
            assert_eq!(buf, want, "{field:?}");
        }
        let mut buf = String::new();
        for n in [0, 7, 10, 4200, u64::MAX] {
            buf.clear();
            push_uint(&mut buf, n);
            assert_eq!(buf, n.to_string());
        }
    }

    #[test]
    fn bad_input_is_named_and_leaves_no_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = args(dir.path(), "id,body\n1,hello\n", None);
        let err = run(&a).expect_err("no text column");
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.contains("`text`") && msg.contains("id, body"), "{msg}");

        let a = args(dir.path(), "id,text\n1,fine\n2,too,many\n", None);
        let err = run(&a).expect_err("ragged row");
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("line 3"), "{err}");

        let mut bytes = b"id,text\n1,ok\n2,caf".to_vec();
        bytes.extend([0xe9, b'\n']);
        std::fs::write(dir.path().join("in.csv"), bytes).expect("write");
        let err = run(&a).expect_err("latin-1");
        assert!(
            err.to_string().contains("line 3") && err.to_string().contains("`text`"),
            "{err}"
        );
        assert!(!dir.path().join("out.csv").exists());
    }
}
