//! Reading a CSV or XLSX file row by row, without holding the whole sheet in memory: the
//! CSV reader reuses one record, the XLSX reader streams the sheet's XML cell by cell
//! (calamine's cell reader) and borrows shared strings from the workbook. Each row comes
//! with its spreadsheet row number (header = row 1), as a user sees it in Excel.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

/// The file format of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values (UTF-8, optionally with a byte-order mark).
    Csv,
    /// Excel workbook (`.xlsx`).
    Xlsx,
}

impl FileFormat {
    /// The format of a `Content-Type`, if it is one we read.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Some(FileFormat::Csv),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Some(FileFormat::Xlsx)
            }
            _ => None,
        }
    }

    /// The format of a file name (`.csv`, `.xlsx`), if it is one we read.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(FileFormat::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(FileFormat::Xlsx)
        } else {
            None
        }
    }
}

/// One cell as read, borrowed from the file where possible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Nothing (or only spaces).
    Empty,
    /// Text, trimmed.
    Text(&'a str),
    /// A number cell (XLSX); Excel serial dates without a date format are numbers too.
    Number(f64),
    /// A date cell (XLSX), already converted to its calendar day.
    Date(chrono::NaiveDate),
    /// A boolean cell (XLSX).
    Bool(bool),
    /// An error cell such as `#N/A` (XLSX).
    Error,
}

impl Cell<'_> {
    /// Whether the cell holds nothing.
    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }
}

/// Why a file cannot be read at all (as opposed to a bad cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Calls `visit` with every row of the file that has a non-empty cell (the header
/// included, first) and its spreadsheet row number. `sheet_hint` picks the worksheet of
/// that name in a workbook (case-insensitive) when there is one, else the first.
/// `total` is called once, before the first row, with an estimate of the rows to come.
pub fn read_rows(
    format: FileFormat,
    bytes: &[u8],
    sheet_hint: &str,
    total: &mut dyn FnMut(usize),
    visit: &mut dyn FnMut(usize, &[Cell<'_>]),
) -> Result<(), Unreadable> {
    match format {
        FileFormat::Csv => read_csv(bytes, total, visit),
        FileFormat::Xlsx => read_xlsx(bytes, sheet_hint, total, visit),
    }
}

fn read_csv(
    bytes: &[u8],
    total: &mut dyn FnMut(usize),
    visit: &mut dyn FnMut(usize, &[Cell<'_>]),
) -> Result<(), Unreadable> {
    // One pass over the bytes for the estimate: cheap next to parsing, and it lets the
    // progress say "row N of M" from the start.
    total(bytes.iter().filter(|b| **b == b'\n').count());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    // Line number (1-based) of the next record: the reader skips blank lines without
    // counting them, so derive it from the byte offset, counting newlines incrementally
    // from the previous offset (linear in the file), as the CRM import does.
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
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Unreadable(format!("row {line} is not valid CSV: {e}")));
            }
        }
        // A fresh vector per row: it borrows the record, which the next read overwrites.
        let mut cells: Vec<Cell<'_>> = Vec::with_capacity(record.len());
        for field in record.iter() {
            let text = std::str::from_utf8(field).map_err(|_| {
                Unreadable(format!(
                    "row {line} is not UTF-8 text; save the file as CSV UTF-8"
                ))
            })?;
            let text = if first {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            let text = text.trim();
            cells.push(if text.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(text)
            });
        }
        first = false;
        if cells.iter().any(|c| !c.is_empty()) {
            visit(line, &cells);
        }
    }
    Ok(())
}

fn read_xlsx(
    bytes: &[u8],
    sheet_hint: &str,
    total: &mut dyn FnMut(usize),
    visit: &mut dyn FnMut(usize, &[Cell<'_>]),
) -> Result<(), Unreadable> {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| Unreadable(format!("not a readable XLSX workbook: {e}")))?;
    let names = workbook.sheet_names();
    let Some(sheet) = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(sheet_hint))
        .or_else(|| names.first())
        .cloned()
    else {
        return Err(Unreadable("the workbook has no sheet".to_owned()));
    };
    let mut reader = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| Unreadable(format!("cannot read sheet {sheet}: {e}")))?;
    let dimensions = reader.dimensions();
    total((dimensions.end.0.saturating_sub(dimensions.start.0) as usize) + 1);
    let mut row_values: Vec<DataRef<'_>> = Vec::with_capacity(16);
    let mut current: Option<u32> = None;
    // A sheet wider than this is not a sales layout; the bound keeps a hostile file
    // (a cell in column XFD) from making every row 16,384 cells wide.
    const MAX_COLUMNS: usize = 256;
    loop {
        let next = reader
            .next_cell()
            .map_err(|e| Unreadable(format!("cannot read sheet {sheet}: {e}")))?;
        let row_of_next = next.as_ref().map(|c| c.get_position().0);
        if current.is_some() && row_of_next != current {
            if let Some(row) = current {
                let cells: Vec<Cell<'_>> = row_values.iter().map(cell_of).collect();
                if cells.iter().any(|c| !c.is_empty()) {
                    visit(row as usize + 1, &cells);
                }
            }
            row_values.clear();
        }
        let Some(cell) = next else { break };
        let (row, column) = cell.get_position();
        current = Some(row);
        let column = column as usize;
        if column >= MAX_COLUMNS {
            continue;
        }
        if column >= row_values.len() {
            row_values.resize(column + 1, DataRef::Empty);
        }
        row_values[column] = cell.get_value().clone();
    }
    Ok(())
}

fn cell_of<'a>(value: &'a DataRef<'_>) -> Cell<'a> {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            text_cell(s.as_str())
        }
        DataRef::SharedString(s) => text_cell(s),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                .map_or(Cell::Error, Cell::Date)
        }
        DataRef::Error(_) => Cell::Error,
    }
}

fn text_cell(s: &str) -> Cell<'_> {
    let s = s.trim();
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(format: FileFormat, bytes: &[u8]) -> Vec<(usize, Vec<String>)> {
        let mut rows = Vec::new();
        read_rows(format, bytes, "Sheet6", &mut |_| {}, &mut |n, cells| {
            rows.push((n, cells.iter().map(|c| format!("{c:?}")).collect()));
        })
        .expect("readable");
        rows
    }

    #[test]
    fn csv_rows_keep_the_spreadsheet_numbers() {
        let rows = rows_of(
            FileFormat::Csv,
            "\u{feff}Date,SKU\n2024-01-01, A \n\n,\n2024-01-02,B\n".as_bytes(),
        );
        let numbers: Vec<usize> = rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            numbers,
            [1, 2, 5],
            "blank line 3 and empty row 4 are skipped"
        );
        assert_eq!(
            rows[0].1[0], "Text(\"Date\")",
            "the byte-order mark is dropped"
        );
        assert_eq!(rows[1].1[1], "Text(\"A\")", "cells are trimmed");
    }

    #[test]
    fn csv_that_is_not_utf8_is_refused_with_its_row() {
        let err = read_rows(
            FileFormat::Csv,
            b"Date,SKU\n2024-01-01,\xff\n",
            "",
            &mut |_| {},
            &mut |_, _| {},
        )
        .expect_err("latin-1");
        assert!(err.0.contains("row 2"), "{err:?}");
    }

    #[test]
    fn xlsx_cells_are_typed_and_rows_numbered() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet
            .write_row(0, 0, ["Date", "SKU", "Sales Qty"])
            .expect("row");
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 31).expect("date");
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet
            .write_datetime_with_format(1, 0, &date, &format)
            .expect("date");
        sheet.write(1, 1, "COLA").expect("sku");
        sheet.write(1, 2, 12.5).expect("qty");
        // Row 3 left empty; row 4 has a serial date without a date format.
        sheet.write(3, 0, 45382).expect("serial");
        let bytes = workbook.save_to_buffer().expect("xlsx");
        let rows = rows_of(FileFormat::Xlsx, &bytes);
        let numbers: Vec<usize> = rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 4]);
        assert_eq!(rows[1].1[0], "Date(2024-03-31)");
        assert_eq!(rows[1].1[2], "Number(12.5)");
        assert_eq!(rows[2].1[0], "Number(45382.0)");
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        let err = read_rows(
            FileFormat::Xlsx,
            b"not a zip",
            "",
            &mut |_| {},
            &mut |_, _| {},
        )
        .expect_err("garbage");
        assert!(err.0.contains("XLSX"), "{err:?}");
    }
}
