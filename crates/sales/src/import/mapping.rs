//! Column mappings: which header of the file holds each field of a sales fact, and how
//! its dates are written. The built-in `sheet6` reads the seed's "Sheet6" layout; others
//! are saved per organisation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Name of the built-in mapping (the seed's "Sheet6" layout).
pub const SHEET6: &str = "sheet6";

/// The fields of a sales fact, in the order of the seed's layout.
pub const FIELDS: [&str; 11] = [
    "date",
    "region",
    "province",
    "precision_area",
    "outlet_code",
    "outlet_name",
    "channel",
    "pack_type",
    "sku",
    "sales_qty",
    "sales_value",
];

/// Field → column header of the file. Every field is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ColumnMapping {
    /// Column with the day of the observation.
    pub date: String,
    /// Column with the region.
    pub region: String,
    /// Column with the province.
    pub province: String,
    /// Column with the precision area (the finest sales territory).
    pub precision_area: String,
    /// Column with the outlet's code (its identity).
    pub outlet_code: String,
    /// Column with the outlet's name.
    pub outlet_name: String,
    /// Column with the outlet's channel.
    pub channel: String,
    /// Column with the pack type of the SKU.
    pub pack_type: String,
    /// Column with the SKU.
    pub sku: String,
    /// Column with the quantity sold (0 = visited, sold none).
    pub sales_qty: String,
    /// Column with the value sold.
    pub sales_value: String,
}

impl ColumnMapping {
    /// The seed's "Sheet6" layout: `Date, Region, Province, Precision Area, Outlet Code,
    /// Outlet Name, Channel, Pack Type, SKU, Sales Qty, Sales Value`.
    pub fn sheet6() -> Self {
        Self {
            date: "Date".to_owned(),
            region: "Region".to_owned(),
            province: "Province".to_owned(),
            precision_area: "Precision Area".to_owned(),
            outlet_code: "Outlet Code".to_owned(),
            outlet_name: "Outlet Name".to_owned(),
            channel: "Channel".to_owned(),
            pack_type: "Pack Type".to_owned(),
            sku: "SKU".to_owned(),
            sales_qty: "Sales Qty".to_owned(),
            sales_value: "Sales Value".to_owned(),
        }
    }

    /// The headers in [`FIELDS`] order.
    pub fn headers(&self) -> [&str; 11] {
        [
            &self.date,
            &self.region,
            &self.province,
            &self.precision_area,
            &self.outlet_code,
            &self.outlet_name,
            &self.channel,
            &self.pack_type,
            &self.sku,
            &self.sales_qty,
            &self.sales_value,
        ]
    }

    /// Field errors of a mapping being saved: every header named, none twice.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let headers = self.headers();
        for (i, (field, header)) in FIELDS.iter().zip(headers).enumerate() {
            if header.trim().is_empty() {
                problems.push((format!("columns.{field}"), "is required".to_owned()));
            } else if header.chars().count() > 200 {
                problems.push((
                    format!("columns.{field}"),
                    "at most 200 characters".to_owned(),
                ));
            } else if let Some(j) = headers[..i]
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(header.trim()))
            {
                problems.push((
                    format!("columns.{field}"),
                    format!("`{header}` is already the column of {}", FIELDS[j]),
                ));
            }
        }
        problems
    }
}

/// How text dates are written in the file. Date cells of a spreadsheet (and Excel serial
/// numbers) are read whatever the format says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum DateFormat {
    /// `2024-01-31` (a time part `00:00:00` is allowed).
    #[default]
    #[serde(rename = "yyyy-mm-dd")]
    Iso,
    /// `31/01/2024` (day first, as in most of the world).
    #[serde(rename = "dd/mm/yyyy")]
    DayFirst,
    /// `01/31/2024` (month first, as in the United States).
    #[serde(rename = "mm/dd/yyyy")]
    MonthFirst,
}

impl DateFormat {
    /// As written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DateFormat::Iso => "yyyy-mm-dd",
            DateFormat::DayFirst => "dd/mm/yyyy",
            DateFormat::MonthFirst => "mm/dd/yyyy",
        }
    }
}

/// A mapping ready to read a file with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The mapping's name (`sheet6` or a saved one).
    pub name: String,
    /// Field → header.
    pub columns: ColumnMapping,
    /// How text dates are written.
    pub date_format: DateFormat,
}

impl Layout {
    /// The built-in `sheet6` layout with ISO dates.
    pub fn sheet6() -> Self {
        Self {
            name: SHEET6.to_owned(),
            columns: ColumnMapping::sheet6(),
            date_format: DateFormat::Iso,
        }
    }

    /// Header position of each field in [`FIELDS`] order, or the headers that are missing.
    /// Headers match ignoring case and surrounding spaces.
    pub fn locate(&self, header: &[String]) -> Result<[usize; 11], Vec<String>> {
        let mut found = [0usize; 11];
        let mut missing = Vec::new();
        for (slot, wanted) in found.iter_mut().zip(self.columns.headers()) {
            let wanted = wanted.trim();
            match header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(wanted))
            {
                Some(i) => *slot = i,
                None => missing.push(wanted.to_owned()),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(missing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sheet6_locates_its_columns_in_any_order_and_case() {
        let mut names = ColumnMapping::sheet6()
            .headers()
            .map(str::to_owned)
            .to_vec();
        names.reverse();
        names[0] = " sales value ".to_owned();
        let found = Layout::sheet6().locate(&names).expect("all present");
        assert_eq!(found[0], 10, "Date is last once reversed");
        assert_eq!(found[10], 0, "Sales Value matched despite case and spaces");
    }

    #[test]
    fn missing_columns_are_named() {
        let missing = Layout::sheet6()
            .locate(&header(&["Date", "Region", "Province"]))
            .expect_err("most are missing");
        assert_eq!(missing.len(), 8);
        assert_eq!(missing[0], "Precision Area");
    }

    #[test]
    fn a_header_cannot_serve_two_fields() {
        let mut columns = ColumnMapping::sheet6();
        columns.sku = "outlet code".to_owned();
        columns.region = " ".to_owned();
        let problems = columns.problems();
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].0, "columns.region");
        assert_eq!(problems[1].0, "columns.sku");
    }

    #[test]
    fn date_formats_serialise_as_written() {
        let json = serde_json::to_string(&DateFormat::DayFirst).expect("json");
        assert_eq!(json, "\"dd/mm/yyyy\"");
        let back: DateFormat = serde_json::from_str("\"yyyy-mm-dd\"").expect("parse");
        assert_eq!(back, DateFormat::Iso);
    }
}
