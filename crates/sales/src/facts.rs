//! Sales facts: the observations imported from distributors' spreadsheets (one outlet ×
//! SKU × day each) and the rollups the analytics read.
//!
//! Storage is designed for 10 million rows on both databases (see the migration
//! `20261204100000_sales_facts.sql`): facts are narrow rows keyed by small integer
//! dimension ids and an integer day, and two rollups — per day × area × pack type (the
//! distribution gaps) and per month × area × SKU × channel (the trends) — are rebuilt
//! from the facts for exactly the days an import touched, inside the import's
//! transaction, so a reader never sees facts and rollups disagree.
//!
//! Re-importing is idempotent: the facts' key is (organisation, day, outlet, SKU), and a
//! row with a key already present replaces the stored one instead of adding to it.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use kernel::db::{Backend, values_placeholders};
use kernel::{Tx, on_tx};
use uuid::Uuid;

use crate::model::SalesError;

/// One observation to write: what an outlet sold of a SKU on a day. A zero quantity is a
/// real observation (the outlet was visited and bought none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    /// Days since 1970-01-01 ([`day_number`]).
    pub day: i32,
    /// Region.
    pub region: String,
    /// Province within the region.
    pub province: String,
    /// Precision area within the province.
    pub precision_area: String,
    /// The outlet's code in the distributor's files.
    pub outlet_code: String,
    /// The outlet's name.
    pub outlet_name: String,
    /// Trade channel (e.g. grocery, horeca).
    pub channel: String,
    /// Pack type of the SKU (e.g. 330ml can).
    pub pack_type: String,
    /// The SKU code.
    pub sku: String,
    /// Quantity sold, scaled by 10,000.
    pub qty_scaled: i64,
    /// Sales value, scaled by 10,000.
    pub value_scaled: i64,
}

/// A fact resolved to ids: ((day, outlet id, SKU id), (quantity, value)).
type KeyedFact = ((i32, i64, i64), (i64, i64));

/// What [`write_facts`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactsWritten {
    /// Rows whose key was new.
    pub inserted: u64,
    /// Rows that replaced a stored row with the same key.
    pub replaced: u64,
    /// Earliest day written.
    pub first_day: Option<i32>,
    /// Latest day written.
    pub last_day: Option<i32>,
}

/// The day number of a date: days since 1970-01-01.
pub fn day_number(date: NaiveDate) -> i32 {
    // Days between two NaiveDates always fit an i32 within chrono's date range.
    (date - epoch()).num_days() as i32
}

/// The date of a day number.
pub fn date_of_day(day: i32) -> NaiveDate {
    if day >= 0 {
        epoch().checked_add_days(Days::new(day as u64))
    } else {
        epoch().checked_sub_days(Days::new(day.unsigned_abs() as u64))
    }
    .unwrap_or(NaiveDate::MAX)
}

/// The month number of a date: `year * 12 + month - 1`, so the previous month is `- 1`
/// and the same month a year before is `- 12`.
pub fn month_number(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

/// The first day of a month number.
pub fn month_start(month: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(month.div_euclid(12), month.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(NaiveDate::MIN)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// First and last day numbers of a month number.
fn month_days(month: i32) -> (i32, i32) {
    (
        day_number(month_start(month)),
        day_number(month_start(month + 1)) - 1,
    )
}

/// Rows per multi-row `INSERT` on SQLite (7 parameters a row, under its 32,766 limit).
const SQLITE_CHUNK: usize = 1_000;
/// Rows per `UNNEST` statement on PostgreSQL (arrays: no parameter limit applies).
const POSTGRES_CHUNK: usize = 20_000;

/// Upserts the dimensions, inserts or replaces the facts, then rebuilds the daily and
/// monthly rollups for the days and months touched — all inside the caller's `tx`.
///
/// Rows with the same key (day, outlet, SKU) within `rows` are written once, the last
/// one winning; importers report such duplicates to the user before calling this.
pub async fn write_facts(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    rows: &[FactRow],
) -> Result<FactsWritten, SalesError> {
    let (Some(first_day), Some(last_day)) = (
        rows.iter().map(|r| r.day).min(),
        rows.iter().map(|r| r.day).max(),
    ) else {
        return Ok(FactsWritten::default());
    };
    let areas = upsert_areas(tx, org_id, rows).await?;
    let outlets = upsert_outlets(tx, org_id, rows, &areas).await?;
    let skus = upsert_skus(tx, org_id, rows).await?;

    // Resolve to ids; the last row of a repeated key wins.
    let mut keyed: HashMap<(i32, i64, i64), (i64, i64)> = HashMap::with_capacity(rows.len());
    for row in rows {
        let (Some(&outlet_id), Some(&sku_id)) = (
            outlets.get(row.outlet_code.as_str()),
            skus.get(row.sku.as_str()),
        ) else {
            // Both maps hold every code of `rows`: upsert_* inserted the missing ones.
            continue;
        };
        keyed.insert(
            (row.day, outlet_id, sku_id),
            (row.qty_scaled, row.value_scaled),
        );
    }
    let mut facts: Vec<KeyedFact> = keyed.into_iter().collect();
    // Key order makes the B-tree inserts sequential.
    facts.sort_unstable_by_key(|(key, _)| *key);

    let before = count_facts(tx, org_id, first_day, last_day).await?;
    match tx.backend() {
        Backend::Sqlite => insert_facts_sqlite(tx, org_id, import_id, &facts).await?,
        Backend::Postgres => insert_facts_postgres(tx, org_id, import_id, &facts).await?,
    }
    let after = count_facts(tx, org_id, first_day, last_day).await?;
    let inserted = after.saturating_sub(before);
    rebuild_rollups(tx, org_id, first_day, last_day).await?;
    Ok(FactsWritten {
        inserted,
        replaced: (facts.len() as u64).saturating_sub(inserted),
        first_day: Some(first_day),
        last_day: Some(last_day),
    })
}

async fn count_facts(tx: &mut Tx, org_id: Uuid, first: i32, last: i32) -> Result<u64, SalesError> {
    let n: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sales_facts WHERE org_id = $1 AND day BETWEEN $2 AND $3",
        )
        .bind(org_id)
        .bind(first)
        .bind(last)
        .fetch_one(c)
        .await
    })?;
    Ok(n.max(0) as u64)
}

async fn insert_facts_sqlite(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    facts: &[KeyedFact],
) -> Result<(), SalesError> {
    for chunk in facts.chunks(SQLITE_CHUNK) {
        let sql = format!(
            "INSERT INTO sales_facts (org_id, import_id, day, outlet_id, sku_id, qty_scaled, value_scaled) \
             VALUES {} ON CONFLICT (org_id, day, outlet_id, sku_id) DO UPDATE SET \
             qty_scaled = excluded.qty_scaled, value_scaled = excluded.value_scaled, \
             import_id = excluded.import_id",
            values_placeholders(Backend::Sqlite, chunk.len(), 7)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for ((day, outlet_id, sku_id), (qty, value)) in chunk {
                query = query
                    .bind(org_id)
                    .bind(import_id)
                    .bind(*day)
                    .bind(*outlet_id)
                    .bind(*sku_id)
                    .bind(*qty)
                    .bind(*value);
            }
            query.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

async fn insert_facts_postgres(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    facts: &[KeyedFact],
) -> Result<(), SalesError> {
    for chunk in facts.chunks(POSTGRES_CHUNK) {
        let days: Vec<i32> = chunk.iter().map(|((d, _, _), _)| *d).collect();
        let outlet_ids: Vec<i64> = chunk.iter().map(|((_, o, _), _)| *o).collect();
        let sku_ids: Vec<i64> = chunk.iter().map(|((_, _, s), _)| *s).collect();
        let qtys: Vec<i64> = chunk.iter().map(|(_, (q, _))| *q).collect();
        let values: Vec<i64> = chunk.iter().map(|(_, (_, v))| *v).collect();
        let kernel::db::TxInner::Postgres(c) = &mut tx.inner else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO sales_facts (org_id, import_id, day, outlet_id, sku_id, qty_scaled, value_scaled) \
             SELECT $1, $2, t.day, t.outlet_id, t.sku_id, t.qty, t.value \
             FROM UNNEST($3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) \
                  AS t(day, outlet_id, sku_id, qty, value) \
             ON CONFLICT (org_id, day, outlet_id, sku_id) DO UPDATE SET \
             qty_scaled = excluded.qty_scaled, value_scaled = excluded.value_scaled, \
             import_id = excluded.import_id",
        )
        .bind(org_id)
        .bind(import_id)
        .bind(&days)
        .bind(&outlet_ids)
        .bind(&sku_ids)
        .bind(&qtys)
        .bind(&values)
        .execute(&mut **c)
        .await
        ?;
    }
    Ok(())
}

type AreaKey = (String, String, String);

/// Ids of the areas in `rows`, inserting the new ones.
async fn upsert_areas(
    tx: &mut Tx,
    org_id: Uuid,
    rows: &[FactRow],
) -> Result<HashMap<AreaKey, i64>, SalesError> {
    let mut known = load_areas(tx, org_id).await?;
    let mut missing: Vec<AreaKey> = Vec::new();
    for row in rows {
        let key = (
            row.region.clone(),
            row.province.clone(),
            row.precision_area.clone(),
        );
        if !known.contains_key(&key) && !missing.contains(&key) {
            missing.push(key);
        }
    }
    if missing.is_empty() {
        return Ok(known);
    }
    let backend = tx.backend();
    for chunk in missing.chunks(SQLITE_CHUNK) {
        let sql = format!(
            "INSERT INTO sales_fact_areas (org_id, region, province, precision_area) VALUES {} \
             ON CONFLICT (org_id, region, province, precision_area) DO NOTHING",
            values_placeholders(backend, chunk.len(), 4)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (region, province, area) in chunk {
                query = query.bind(org_id).bind(region).bind(province).bind(area);
            }
            query.execute(c).await.map(|_| ())
        })?;
    }
    known = load_areas(tx, org_id).await?;
    Ok(known)
}

async fn load_areas(tx: &mut Tx, org_id: Uuid) -> Result<HashMap<AreaKey, i64>, SalesError> {
    let rows: Vec<(i64, String, String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, region, province, precision_area FROM sales_fact_areas WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, region, province, area)| ((region, province, area), id))
        .collect())
}

/// Ids of the outlets in `rows` by code, inserting new ones and updating the name,
/// channel and area of known ones to the latest values in `rows`.
async fn upsert_outlets(
    tx: &mut Tx,
    org_id: Uuid,
    rows: &[FactRow],
    areas: &HashMap<AreaKey, i64>,
) -> Result<HashMap<String, i64>, SalesError> {
    let stored: Vec<(i64, String, String, String, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, outlet_code, outlet_name, channel, area_id FROM sales_fact_outlets WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await
    })?;
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(stored.len());
    let mut current: HashMap<String, (String, String, i64)> = HashMap::with_capacity(stored.len());
    for (id, code, name, channel, area_id) in stored {
        ids.insert(code.clone(), id);
        current.insert(code, (name, channel, area_id));
    }
    // The latest row of each outlet in the file says what the outlet is now.
    let mut wanted: HashMap<&str, (&str, &str, i64)> = HashMap::new();
    for row in rows {
        let area_key = (
            row.region.clone(),
            row.province.clone(),
            row.precision_area.clone(),
        );
        let Some(&area_id) = areas.get(&area_key) else {
            continue;
        };
        wanted.insert(
            row.outlet_code.as_str(),
            (row.outlet_name.as_str(), row.channel.as_str(), area_id),
        );
    }
    let mut new: Vec<(&str, &str, &str, i64)> = Vec::new();
    for (code, (name, channel, area_id)) in &wanted {
        match current.get(*code) {
            None => new.push((code, name, channel, *area_id)),
            Some((n, ch, a)) if n != name || ch != channel || a != area_id => {
                on_tx!(tx, |c| sqlx::query(
                    "UPDATE sales_fact_outlets SET outlet_name = $1, channel = $2, area_id = $3 \
                     WHERE org_id = $4 AND outlet_code = $5"
                )
                .bind(*name)
                .bind(*channel)
                .bind(*area_id)
                .bind(org_id)
                .bind(*code)
                .execute(c)
                .await
                .map(|_| ()))?;
            }
            Some(_) => {}
        }
    }
    if new.is_empty() {
        return Ok(ids);
    }
    let backend = tx.backend();
    for chunk in new.chunks(SQLITE_CHUNK) {
        let sql = format!(
            "INSERT INTO sales_fact_outlets (org_id, outlet_code, outlet_name, channel, area_id) \
             VALUES {} ON CONFLICT (org_id, outlet_code) DO NOTHING",
            values_placeholders(backend, chunk.len(), 5)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (code, name, channel, area_id) in chunk {
                query = query
                    .bind(org_id)
                    .bind(*code)
                    .bind(*name)
                    .bind(*channel)
                    .bind(*area_id);
            }
            query.execute(c).await.map(|_| ())
        })?;
    }
    let stored: Vec<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, outlet_code FROM sales_fact_outlets WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(stored.into_iter().map(|(id, code)| (code, id)).collect())
}

/// Ids of the SKUs in `rows`, inserting new ones (linked to the product with the same SKU
/// when there is one) and updating the pack type of known ones to the latest in `rows`.
async fn upsert_skus(
    tx: &mut Tx,
    org_id: Uuid,
    rows: &[FactRow],
) -> Result<HashMap<String, i64>, SalesError> {
    let stored: Vec<(i64, String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, sku, pack_type FROM sales_fact_skus WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(stored.len());
    let mut packs: HashMap<String, String> = HashMap::with_capacity(stored.len());
    for (id, sku, pack) in stored {
        ids.insert(sku.clone(), id);
        packs.insert(sku, pack);
    }
    let mut wanted: HashMap<&str, &str> = HashMap::new();
    for row in rows {
        wanted.insert(row.sku.as_str(), row.pack_type.as_str());
    }
    let mut new: Vec<(&str, &str)> = Vec::new();
    for (sku, pack) in &wanted {
        match packs.get(*sku) {
            None => new.push((sku, pack)),
            Some(p) if p != pack => {
                on_tx!(tx, |c| sqlx::query(
                    "UPDATE sales_fact_skus SET pack_type = $1 WHERE org_id = $2 AND sku = $3"
                )
                .bind(*pack)
                .bind(org_id)
                .bind(*sku)
                .execute(c)
                .await
                .map(|_| ()))?;
            }
            Some(_) => {}
        }
    }
    if new.is_empty() {
        return Ok(ids);
    }
    let backend = tx.backend();
    for chunk in new.chunks(SQLITE_CHUNK) {
        let sql = format!(
            "INSERT INTO sales_fact_skus (org_id, sku, pack_type) VALUES {} \
             ON CONFLICT (org_id, sku) DO NOTHING",
            values_placeholders(backend, chunk.len(), 3)
        );
        on_tx!(tx, |c| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (sku, pack) in chunk {
                query = query.bind(org_id).bind(*sku).bind(*pack);
            }
            query.execute(c).await.map(|_| ())
        })?;
    }
    // Link new SKUs to the catalogue's products (SKUs are unique per organisation,
    // case-insensitively: `sku_key` is the lower-cased SKU).
    on_tx!(tx, |c| sqlx::query(
        "UPDATE sales_fact_skus SET product_id = (SELECT p.id FROM sales_products p \
             WHERE p.org_id = sales_fact_skus.org_id AND p.sku_key = LOWER(sales_fact_skus.sku)) \
         WHERE org_id = $1 AND product_id IS NULL"
    )
    .bind(org_id)
    .execute(c)
    .await
    .map(|_| ()))?;
    let stored: Vec<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, sku FROM sales_fact_skus WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(stored.into_iter().map(|(id, sku)| (sku, id)).collect())
}

/// Recomputes both rollups from the facts: the daily one for days `first_day..=last_day`,
/// the monthly one for every month those days fall in (whole months).
pub async fn rebuild_rollups(
    tx: &mut Tx,
    org_id: Uuid,
    first_day: i32,
    last_day: i32,
) -> Result<(), SalesError> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM sales_daily_rollup WHERE org_id = $1 AND day BETWEEN $2 AND $3"
    )
    .bind(org_id)
    .bind(first_day)
    .bind(last_day)
    .execute(c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO sales_daily_rollup \
             (org_id, day, area_id, pack_type, records, zero_records, qty_scaled, value_scaled) \
         SELECT f.org_id, f.day, o.area_id, s.pack_type, COUNT(*), \
                SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), \
                SUM(f.qty_scaled), SUM(f.value_scaled) \
         FROM sales_facts f \
         JOIN sales_fact_outlets o ON o.id = f.outlet_id \
         JOIN sales_fact_skus s ON s.id = f.sku_id \
         WHERE f.org_id = $1 AND f.day BETWEEN $2 AND $3 \
         GROUP BY f.org_id, f.day, o.area_id, s.pack_type"
    )
    .bind(org_id)
    .bind(first_day)
    .bind(last_day)
    .execute(c)
    .await
    .map(|_| ()))?;

    let first_month = month_number(date_of_day(first_day));
    let last_month = month_number(date_of_day(last_day));
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM sales_monthly_rollup WHERE org_id = $1 AND month BETWEEN $2 AND $3"
    )
    .bind(org_id)
    .bind(first_month)
    .bind(last_month)
    .execute(c)
    .await
    .map(|_| ()))?;
    // One statement a month: the month is then a constant, not a date computation per row
    // (which neither database could index, and which they spell differently).
    for month in first_month..=last_month {
        let (from, to) = month_days(month);
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO sales_monthly_rollup \
                 (org_id, month, area_id, sku_id, channel, records, zero_records, outlets, \
                  qty_scaled, value_scaled) \
             SELECT f.org_id, $2, o.area_id, f.sku_id, o.channel, COUNT(*), \
                    SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), \
                    COUNT(DISTINCT f.outlet_id), SUM(f.qty_scaled), SUM(f.value_scaled) \
             FROM sales_facts f \
             JOIN sales_fact_outlets o ON o.id = f.outlet_id \
             WHERE f.org_id = $1 AND f.day BETWEEN $3 AND $4 \
             GROUP BY f.org_id, o.area_id, f.sku_id, o.channel"
        )
        .bind(org_id)
        .bind(month)
        .bind(from)
        .bind(to)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::migrate::KERNEL;
    use kernel::{db_test, on_pool};

    fn fact(day: i32, outlet: &str, sku: &str, pack: &str, qty: i64) -> FactRow {
        FactRow {
            day,
            region: "Central".into(),
            province: "Riyadh".into(),
            precision_area: if outlet == "O1" { "North" } else { "South" }.into(),
            outlet_code: outlet.into(),
            outlet_name: format!("Outlet {outlet}"),
            channel: "grocery".into(),
            pack_type: pack.into(),
            sku: sku.into(),
            qty_scaled: qty * 10_000,
            value_scaled: qty * 25_000,
        }
    }

    db_test!(
        facts_replace_on_reimport_and_rollups_follow,
        [KERNEL, crate::MIGRATIONS],
        |test| {
            let org = Uuid::now_v7();
            let other_org = Uuid::now_v7();
            let may_1 = day_number(NaiveDate::from_ymd_opt(2026, 5, 1).expect("date"));
            let rows = vec![
                fact(may_1, "O1", "COLA-330", "can 330ml", 5),
                fact(may_1, "O2", "COLA-330", "can 330ml", 0),
                fact(may_1, "O2", "COLA-1L", "pet 1l", 2),
                fact(may_1 + 31, "O3", "COLA-330", "can 330ml", 0),
            ];
            let mut tx = test.db.begin().await.expect("begin");
            let first = write_facts(&mut tx, org, Uuid::now_v7(), &rows)
                .await
                .expect("write");
            write_facts(&mut tx, other_org, Uuid::now_v7(), &rows[..1])
                .await
                .expect("other org");
            tx.commit().await.expect("commit");
            assert_eq!(first.inserted, 4);
            assert_eq!(first.replaced, 0);
            assert_eq!(first.first_day, Some(may_1));
            assert_eq!(first.last_day, Some(may_1 + 31));

            // The same rows again (one changed) replace, never add.
            let mut again = rows.clone();
            again[0].qty_scaled = 7 * 10_000;
            let mut tx = test.db.begin().await.expect("begin");
            let second = write_facts(&mut tx, org, Uuid::now_v7(), &again)
                .await
                .expect("write");
            tx.commit().await.expect("commit");
            assert_eq!((second.inserted, second.replaced), (0, 4));

            let daily: Vec<(i32, String, i64, i64, i64)> = on_pool!(test.db, |p| sqlx::query_as(
                "SELECT r.day, r.pack_type, r.records, r.zero_records, r.qty_scaled \
                 FROM sales_daily_rollup r WHERE r.org_id = $1 ORDER BY r.day, r.pack_type, r.area_id"
            )
            .bind(org)
            .fetch_all(p)
            .await)
            .expect("daily");
            assert_eq!(
                daily,
                vec![
                    (may_1, "can 330ml".to_owned(), 1, 0, 70_000),
                    (may_1, "can 330ml".to_owned(), 1, 1, 0),
                    (may_1, "pet 1l".to_owned(), 1, 0, 20_000),
                    (may_1 + 31, "can 330ml".to_owned(), 1, 1, 0),
                ]
            );
            let monthly: Vec<(i32, i64, i64, i64, i64)> = on_pool!(test.db, |p| {
                sqlx::query_as(
                "SELECT month, CAST(SUM(records) AS BIGINT), CAST(SUM(zero_records) AS BIGINT), \
                 CAST(SUM(outlets) AS BIGINT), CAST(SUM(value_scaled) AS BIGINT) \
                 FROM sales_monthly_rollup WHERE org_id = $1 GROUP BY month ORDER BY month"
            )
            .bind(org)
            .fetch_all(p)
            .await
            })
            .expect("monthly");
            let may = month_number(NaiveDate::from_ymd_opt(2026, 5, 1).expect("date"));
            assert_eq!(
                monthly,
                vec![(may, 3, 1, 3, 175_000), (may + 1, 1, 1, 1, 0)]
            );

            // An outlet that moved area follows its latest row.
            let mut moved = rows[0].clone();
            moved.precision_area = "East".into();
            let mut tx = test.db.begin().await.expect("begin");
            write_facts(&mut tx, org, Uuid::now_v7(), &[moved])
                .await
                .expect("write");
            tx.commit().await.expect("commit");
            let area: String = on_pool!(test.db, |p| sqlx::query_scalar(
                "SELECT a.precision_area FROM sales_fact_outlets o \
                 JOIN sales_fact_areas a ON a.id = o.area_id WHERE o.org_id = $1 AND o.outlet_code = 'O1'"
            )
            .bind(org)
            .fetch_one(p)
            .await)
            .expect("area");
            assert_eq!(area, "East");
        }
    );

    #[test]
    fn day_and_month_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
        assert_eq!(date_of_day(day_number(d)), d);
        assert_eq!(
            day_number(NaiveDate::from_ymd_opt(1970, 1, 2).expect("date")),
            1
        );
        assert_eq!(
            date_of_day(-1),
            NaiveDate::from_ymd_opt(1969, 12, 31).expect("date")
        );
        let m = month_number(d);
        assert_eq!(m, 2026 * 12 + 2);
        assert_eq!(
            month_start(m),
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")
        );
        assert_eq!(
            month_start(m - 3),
            NaiveDate::from_ymd_opt(2025, 12, 1).expect("date")
        );
        assert_eq!(
            month_days(month_number(
                NaiveDate::from_ymd_opt(2024, 2, 10).expect("date")
            )),
            (
                day_number(NaiveDate::from_ymd_opt(2024, 2, 1).expect("date")),
                day_number(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"))
            )
        );
    }
}
