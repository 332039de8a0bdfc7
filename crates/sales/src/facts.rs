//! Sales facts: the observations imported from distributors' spreadsheets (one outlet ×
//! SKU × day each) and the rollups the analytics read.
//!
//! Storage is designed for 10 million rows on both databases (see the migration
//! `20261204100000_sales_facts.sql`): facts are narrow rows keyed by small integer
//! dimension ids and an integer day, and three rollups — per area × pack type × day ×
//! outlet (the outlets a gap recommendation names), per day × area × pack type (the
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

/// A batch of facts with its dimensions listed once: what an importer that has already
/// interned its rows hands over, so a million rows do not carry eight strings each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactBatch {
    /// Geographies; facts refer to them through their outlet.
    pub areas: Vec<BatchArea>,
    /// Outlets, with the index of their area in `areas`.
    pub outlets: Vec<BatchOutlet>,
    /// SKUs with their pack type.
    pub skus: Vec<BatchSku>,
    /// The observations, by index into `outlets` and `skus`.
    pub facts: Vec<BatchFact>,
}

/// A geography of a [`FactBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchArea {
    /// Region.
    pub region: String,
    /// Province.
    pub province: String,
    /// Precision area.
    pub precision_area: String,
}

/// An outlet of a [`FactBatch`]: what it is now (name, channel, area).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutlet {
    /// The outlet's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its channel.
    pub channel: String,
    /// Index into [`FactBatch::areas`].
    pub area: u32,
}

/// A SKU of a [`FactBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSku {
    /// The SKU code.
    pub sku: String,
    /// Its pack type.
    pub pack_type: String,
}

/// One observation of a [`FactBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFact {
    /// Days since 1970-01-01.
    pub day: i32,
    /// Index into [`FactBatch::outlets`].
    pub outlet: u32,
    /// Index into [`FactBatch::skus`].
    pub sku: u32,
    /// Quantity × 10,000.
    pub qty_scaled: i64,
    /// Value × 10,000.
    pub value_scaled: i64,
}

impl FactBatch {
    /// Interns `rows`: an outlet (or SKU) takes the attributes of its last row, and of
    /// rows with the same key (day, outlet, SKU) the last one wins.
    pub fn from_rows(rows: &[FactRow]) -> Self {
        let mut batch = FactBatch::default();
        let mut areas: HashMap<(&str, &str, &str), u32> = HashMap::new();
        let mut outlets: HashMap<&str, u32> = HashMap::new();
        let mut skus: HashMap<&str, u32> = HashMap::new();
        let mut keys: HashMap<(i32, u32, u32), usize> = HashMap::with_capacity(rows.len());
        for row in rows {
            let area = *areas
                .entry((&row.region, &row.province, &row.precision_area))
                .or_insert_with(|| {
                    batch.areas.push(BatchArea {
                        region: row.region.clone(),
                        province: row.province.clone(),
                        precision_area: row.precision_area.clone(),
                    });
                    (batch.areas.len() - 1) as u32
                });
            let outlet = *outlets.entry(&row.outlet_code).or_insert_with(|| {
                batch.outlets.push(BatchOutlet {
                    code: row.outlet_code.clone(),
                    name: String::new(),
                    channel: String::new(),
                    area,
                });
                (batch.outlets.len() - 1) as u32
            });
            let o = &mut batch.outlets[outlet as usize];
            if o.name != row.outlet_name || o.channel != row.channel || o.area != area {
                o.name.clone_from(&row.outlet_name);
                o.channel.clone_from(&row.channel);
                o.area = area;
            }
            let sku = *skus.entry(&row.sku).or_insert_with(|| {
                batch.skus.push(BatchSku {
                    sku: row.sku.clone(),
                    pack_type: String::new(),
                });
                (batch.skus.len() - 1) as u32
            });
            let s = &mut batch.skus[sku as usize];
            if s.pack_type != row.pack_type {
                s.pack_type.clone_from(&row.pack_type);
            }
            let fact = BatchFact {
                day: row.day,
                outlet,
                sku,
                qty_scaled: row.qty_scaled,
                value_scaled: row.value_scaled,
            };
            match keys.get(&(row.day, outlet, sku)) {
                Some(&i) => batch.facts[i] = fact,
                None => {
                    keys.insert((row.day, outlet, sku), batch.facts.len());
                    batch.facts.push(fact);
                }
            }
        }
        batch
    }
}

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
    write_fact_batch(tx, org_id, import_id, &FactBatch::from_rows(rows)).await
}

/// How far a write has got: `(done, total)` in units of facts — writing the facts is one
/// unit a fact, rebuilding the rollups as much again (`total` = 2 × the batch's facts).
pub type WriteProgress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// [`write_facts`] for rows already interned into a [`FactBatch`] (the importer's path).
/// Outlets and SKUs already stored take the batch's name, channel, area and pack type.
pub async fn write_fact_batch(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    batch: &FactBatch,
) -> Result<FactsWritten, SalesError> {
    write_fact_batch_reporting(tx, org_id, import_id, batch, &|_, _| {}).await
}

/// [`write_fact_batch`], telling `progress` after every written chunk and rollup step, so
/// a large import's progress moves during the write instead of jumping at the end.
pub async fn write_fact_batch_reporting(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    batch: &FactBatch,
    progress: WriteProgress<'_>,
) -> Result<FactsWritten, SalesError> {
    let (Some(first_day), Some(last_day)) = (
        batch.facts.iter().map(|r| r.day).min(),
        batch.facts.iter().map(|r| r.day).max(),
    ) else {
        return Ok(FactsWritten::default());
    };
    let areas = upsert_areas(tx, org_id, &batch.areas).await?;
    let (outlets, moved) = upsert_outlets(tx, org_id, &batch.outlets, &areas).await?;
    let (skus, repacked) = upsert_skus(tx, org_id, &batch.skus).await?;
    // An outlet that changed area or channel, or a SKU that changed pack type, is rolled
    // up differently from now on: its earlier days are rebuilt too, so the rollups stay
    // a GROUP BY of the facts.
    let mut rebuild = (first_day, last_day);
    for span in [
        days_of(tx, org_id, "outlet_id", &moved).await?,
        days_of(tx, org_id, "sku_id", &repacked).await?,
    ]
    .into_iter()
    .flatten()
    {
        rebuild = (rebuild.0.min(span.0), rebuild.1.max(span.1));
    }

    let mut facts: Vec<KeyedFact> = Vec::with_capacity(batch.facts.len());
    for f in &batch.facts {
        let (Some(&outlet_id), Some(&sku_id)) =
            (outlets.get(f.outlet as usize), skus.get(f.sku as usize))
        else {
            return Err(SalesError::Conflict(
                "a fact refers to an outlet or SKU missing from its batch".to_owned(),
            ));
        };
        facts.push(((f.day, outlet_id, sku_id), (f.qty_scaled, f.value_scaled)));
    }
    // Key order makes the B-tree inserts sequential; a repeated key keeps its last row
    // (the sort is stable, so the last of a run is the last given).
    facts.sort_by_key(|(key, _)| *key);
    let mut unique: Vec<KeyedFact> = Vec::with_capacity(facts.len());
    for fact in facts {
        match unique.last_mut() {
            Some(last) if last.0 == fact.0 => *last = fact,
            _ => unique.push(fact),
        }
    }
    let facts = unique;

    let total = facts.len() * 2;
    let written = |done: usize| progress(done, total);
    let started = std::time::Instant::now();
    tracing::debug!(target: "meridian::import", facts = facts.len(), "dimensions written");
    let before = count_facts(tx, org_id, first_day, last_day).await?;
    match tx.backend() {
        Backend::Sqlite => insert_facts_sqlite(tx, org_id, import_id, &facts, &written).await?,
        Backend::Postgres => insert_facts_postgres(tx, org_id, import_id, &facts, &written).await?,
    }
    let after = count_facts(tx, org_id, first_day, last_day).await?;
    let inserted = after.saturating_sub(before);
    tracing::debug!(target: "meridian::import", elapsed = ?started.elapsed(), "facts written");
    // The rollups take about as long as the facts: their steps report the second half.
    let steps = ROLLUP_STEPS + month_span(rebuild.0, rebuild.1);
    let rebuilt = |step: usize| progress(facts.len() + facts.len() * step / steps, total);
    rebuild_rollups_reporting(tx, org_id, rebuild.0, rebuild.1, &rebuilt).await?;
    tracing::debug!(target: "meridian::import", elapsed = ?started.elapsed(), "rollups rebuilt");
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
    written: &(dyn Fn(usize) + Send + Sync),
) -> Result<(), SalesError> {
    for (n, chunk) in facts.chunks(SQLITE_CHUNK).enumerate() {
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
        written(n * SQLITE_CHUNK + chunk.len());
    }
    Ok(())
}

async fn insert_facts_postgres(
    tx: &mut Tx,
    org_id: Uuid,
    import_id: Uuid,
    facts: &[KeyedFact],
    written: &(dyn Fn(usize) + Send + Sync),
) -> Result<(), SalesError> {
    for (n, chunk) in facts.chunks(POSTGRES_CHUNK).enumerate() {
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
        written(n * POSTGRES_CHUNK + chunk.len());
    }
    Ok(())
}

type AreaKey = (String, String, String);

/// Ids of the batch's areas (by index), inserting the new ones.
async fn upsert_areas(
    tx: &mut Tx,
    org_id: Uuid,
    areas: &[BatchArea],
) -> Result<Vec<i64>, SalesError> {
    let key = |a: &BatchArea| {
        (
            a.region.clone(),
            a.province.clone(),
            a.precision_area.clone(),
        )
    };
    let mut known = load_areas(tx, org_id).await?;
    let missing: Vec<&BatchArea> = areas
        .iter()
        .filter(|a| !known.contains_key(&key(a)))
        .collect();
    if !missing.is_empty() {
        let backend = tx.backend();
        for chunk in missing.chunks(SQLITE_CHUNK) {
            let sql = format!(
                "INSERT INTO sales_fact_areas (org_id, region, province, precision_area) VALUES {} \
                 ON CONFLICT (org_id, region, province, precision_area) DO NOTHING",
                values_placeholders(backend, chunk.len(), 4)
            );
            on_tx!(tx, |c| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for a in chunk {
                    query = query
                        .bind(org_id)
                        .bind(&a.region)
                        .bind(&a.province)
                        .bind(&a.precision_area);
                }
                query.execute(c).await.map(|_| ())
            })?;
        }
        known = load_areas(tx, org_id).await?;
    }
    areas
        .iter()
        .map(|a| {
            known.get(&key(a)).copied().ok_or_else(|| {
                SalesError::Conflict(format!("area {} was not stored", a.precision_area))
            })
        })
        .collect()
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

/// Ids of the batch's outlets (by index), inserting new ones and updating the name,
/// channel and area of known ones to the batch's.
async fn upsert_outlets(
    tx: &mut Tx,
    org_id: Uuid,
    outlets: &[BatchOutlet],
    area_ids: &[i64],
) -> Result<(Vec<i64>, Vec<i64>), SalesError> {
    let stored: Vec<(i64, String, String, String, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id, outlet_code, outlet_name, channel, area_id FROM sales_fact_outlets WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await
    })?;
    let mut current: HashMap<String, (i64, String, String, i64)> =
        HashMap::with_capacity(stored.len());
    for (id, code, name, channel, area_id) in stored {
        current.insert(code, (id, name, channel, area_id));
    }
    let mut new: Vec<(&BatchOutlet, i64)> = Vec::new();
    let mut moved: Vec<i64> = Vec::new();
    for o in outlets {
        let area_id = area_ids.get(o.area as usize).copied().ok_or_else(|| {
            SalesError::Conflict(format!("outlet {} refers to a missing area", o.code))
        })?;
        match current.get(o.code.as_str()) {
            None => new.push((o, area_id)),
            Some((id, n, ch, a)) if *n != o.name || *ch != o.channel || *a != area_id => {
                if *ch != o.channel || *a != area_id {
                    // Its earlier days are rolled up under the old area or channel.
                    moved.push(*id);
                }
                on_tx!(tx, |c| sqlx::query(
                    "UPDATE sales_fact_outlets SET outlet_name = $1, channel = $2, area_id = $3 \
                     WHERE org_id = $4 AND outlet_code = $5"
                )
                .bind(&o.name)
                .bind(&o.channel)
                .bind(area_id)
                .bind(org_id)
                .bind(&o.code)
                .execute(c)
                .await
                .map(|_| ()))?;
            }
            Some(_) => {}
        }
    }
    if !new.is_empty() {
        let backend = tx.backend();
        for chunk in new.chunks(SQLITE_CHUNK) {
            let sql = format!(
                "INSERT INTO sales_fact_outlets (org_id, outlet_code, outlet_name, channel, area_id) \
                 VALUES {} ON CONFLICT (org_id, outlet_code) DO NOTHING",
                values_placeholders(backend, chunk.len(), 5)
            );
            on_tx!(tx, |c| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for (o, area_id) in chunk {
                    query = query
                        .bind(org_id)
                        .bind(&o.code)
                        .bind(&o.name)
                        .bind(&o.channel)
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
        current.clear();
        for (id, code) in stored {
            current.insert(code, (id, String::new(), String::new(), 0));
        }
    }
    let ids = outlets
        .iter()
        .map(|o| {
            current
                .get(o.code.as_str())
                .map(|(id, ..)| *id)
                .ok_or_else(|| SalesError::Conflict(format!("outlet {} was not stored", o.code)))
        })
        .collect::<Result<Vec<i64>, SalesError>>()?;
    Ok((ids, moved))
}

/// Ids of the batch's SKUs (by index), inserting new ones (linked to the product with the
/// same SKU when there is one) and updating the pack type of known ones to the batch's.
async fn upsert_skus(
    tx: &mut Tx,
    org_id: Uuid,
    skus: &[BatchSku],
) -> Result<(Vec<i64>, Vec<i64>), SalesError> {
    let stored: Vec<(i64, String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id, sku, pack_type FROM sales_fact_skus WHERE org_id = $1"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    let mut current: HashMap<String, (i64, String)> = HashMap::with_capacity(stored.len());
    for (id, sku, pack) in stored {
        current.insert(sku, (id, pack));
    }
    let mut new: Vec<&BatchSku> = Vec::new();
    let mut repacked: Vec<i64> = Vec::new();
    for s in skus {
        match current.get(s.sku.as_str()) {
            None => new.push(s),
            Some((id, pack)) if *pack != s.pack_type => {
                repacked.push(*id);
                on_tx!(tx, |c| sqlx::query(
                    "UPDATE sales_fact_skus SET pack_type = $1 WHERE org_id = $2 AND sku = $3"
                )
                .bind(&s.pack_type)
                .bind(org_id)
                .bind(&s.sku)
                .execute(c)
                .await
                .map(|_| ()))?;
            }
            Some(_) => {}
        }
    }
    if !new.is_empty() {
        let backend = tx.backend();
        for chunk in new.chunks(SQLITE_CHUNK) {
            let sql = format!(
                "INSERT INTO sales_fact_skus (org_id, sku, pack_type) VALUES {} \
                 ON CONFLICT (org_id, sku) DO NOTHING",
                values_placeholders(backend, chunk.len(), 3)
            );
            on_tx!(tx, |c| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for s in chunk {
                    query = query.bind(org_id).bind(&s.sku).bind(&s.pack_type);
                }
                query.execute(c).await.map(|_| ())
            })?;
        }
        let stored: Vec<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT id, sku FROM sales_fact_skus WHERE org_id = $1"
        )
        .bind(org_id)
        .fetch_all(c)
        .await)?;
        current.clear();
        for (id, sku) in stored {
            current.insert(sku, (id, String::new()));
        }
    }
    // Link SKUs to the catalogue's products (SKUs are unique per organisation,
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
    let ids = skus
        .iter()
        .map(|s| {
            current
                .get(s.sku.as_str())
                .map(|(id, _)| *id)
                .ok_or_else(|| SalesError::Conflict(format!("SKU {} was not stored", s.sku)))
        })
        .collect::<Result<Vec<i64>, SalesError>>()?;
    Ok((ids, repacked))
}

/// The days of the months holding facts of `ids` in `column` (`outlet_id` or `sku_id`),
/// if any: a superset of their facts' days, read from the outlet × SKU × month rollup
/// (the facts have no index by outlet or SKU; rebuilding a few more days is harmless).
async fn days_of(
    tx: &mut Tx,
    org_id: Uuid,
    column: &str,
    ids: &[i64],
) -> Result<Option<(i32, i32)>, SalesError> {
    let mut span: Option<(i32, i32)> = None;
    for chunk in ids.chunks(SQLITE_CHUNK) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT MIN(month), MAX(month) FROM sales_outlet_sku_monthly WHERE org_id = $1 AND {column} IN ({})",
            list.join(", ")
        );
        let (first, last): (Option<i32>, Option<i32>) = on_tx!(tx, |c| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(org_id);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_one(c).await
        })?;
        if let (Some(a), Some(b)) = (first, last) {
            let (a, b) = (month_days(a).0, month_days(b).1);
            span = Some(span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    }
    Ok(span)
}

/// Recomputes the rollups from the facts: the outlet and daily ones for days
/// `first_day..=last_day`, the monthly one for every month those days fall in (whole
/// months). The daily rollup is summed from the outlet rollup just rebuilt, which is a
/// GROUP BY of the facts, so both stay GROUP BYs of the facts.
pub async fn rebuild_rollups(
    tx: &mut Tx,
    org_id: Uuid,
    first_day: i32,
    last_day: i32,
) -> Result<(), SalesError> {
    rebuild_rollups_reporting(tx, org_id, first_day, last_day, &|_| {}).await
}

/// Statements of a rebuild before the monthly ones (two for each daily rollup).
const ROLLUP_STEPS: usize = 6;

/// Months from the month of `first_day` to that of `last_day`, both included.
fn month_span(first_day: i32, last_day: i32) -> usize {
    let months = month_number(date_of_day(last_day)) - month_number(date_of_day(first_day));
    usize::try_from(months).unwrap_or(0) + 1
}

/// [`rebuild_rollups`], calling `step` with the number of statements done after each
/// (of [`ROLLUP_STEPS`] + one a month).
async fn rebuild_rollups_reporting(
    tx: &mut Tx,
    org_id: Uuid,
    first_day: i32,
    last_day: i32,
    step: &(dyn Fn(usize) + Send + Sync),
) -> Result<(), SalesError> {
    // Days: the outlet rollup from the facts; the daily rollup and the outlets' purchase
    // days from the outlet rollup.
    for (n, statement) in [
        "DELETE FROM sales_outlet_daily_rollup WHERE org_id = $1 AND day BETWEEN $2 AND $3",
        "INSERT INTO sales_outlet_daily_rollup \
             (org_id, area_id, pack_type, day, outlet_id, records, zero_records, qty_scaled, value_scaled, \
              purchases, purchase_value_scaled) \
         SELECT f.org_id, o.area_id, s.pack_type, f.day, f.outlet_id, COUNT(*), \
                SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), \
                SUM(f.qty_scaled), SUM(f.value_scaled), \
                SUM(CASE WHEN f.qty_scaled > 0 THEN 1 ELSE 0 END), \
                SUM(CASE WHEN f.qty_scaled > 0 THEN f.value_scaled ELSE 0 END) \
         FROM sales_facts f \
         JOIN sales_fact_outlets o ON o.id = f.outlet_id \
         JOIN sales_fact_skus s ON s.id = f.sku_id \
         WHERE f.org_id = $1 AND f.day BETWEEN $2 AND $3 \
         GROUP BY f.org_id, o.area_id, s.pack_type, f.day, f.outlet_id",
        "DELETE FROM sales_daily_rollup WHERE org_id = $1 AND day BETWEEN $2 AND $3",
        "INSERT INTO sales_daily_rollup \
             (org_id, day, area_id, pack_type, records, zero_records, qty_scaled, value_scaled) \
         SELECT org_id, day, area_id, pack_type, SUM(records), SUM(zero_records), \
                SUM(qty_scaled), SUM(value_scaled) \
         FROM sales_outlet_daily_rollup \
         WHERE org_id = $1 AND day BETWEEN $2 AND $3 \
         GROUP BY org_id, day, area_id, pack_type",
        "DELETE FROM sales_outlet_purchase_days WHERE org_id = $1 AND day BETWEEN $2 AND $3",
        "INSERT INTO sales_outlet_purchase_days (org_id, outlet_id, day, purchases, purchase_value_scaled) \
         SELECT org_id, outlet_id, day, SUM(purchases), SUM(purchase_value_scaled) \
         FROM sales_outlet_daily_rollup \
         WHERE org_id = $1 AND day BETWEEN $2 AND $3 AND purchases > 0 \
         GROUP BY org_id, outlet_id, day",
    ]
    .into_iter()
    .enumerate()
    {
        on_tx!(tx, |c| sqlx::query(statement)
            .bind(org_id)
            .bind(first_day)
            .bind(last_day)
            .execute(c)
            .await
            .map(|_| ()))?;
        tracing::debug!(target: "meridian::import", statement = n, "daily rollup step");
        step(n + 1);
    }

    // Months (whole ones): the outlet × SKU rollup from the facts, the trend rollup from it.
    let first_month = month_number(date_of_day(first_day));
    let last_month = month_number(date_of_day(last_day));
    for statement in [
        "DELETE FROM sales_monthly_rollup WHERE org_id = $1 AND month BETWEEN $2 AND $3",
        "DELETE FROM sales_outlet_sku_monthly WHERE org_id = $1 AND month BETWEEN $2 AND $3",
    ] {
        on_tx!(tx, |c| sqlx::query(statement)
            .bind(org_id)
            .bind(first_month)
            .bind(last_month)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    // One statement a month: the month is then a constant, not a date computation per row
    // (which neither database could index, and which they spell differently).
    for month in first_month..=last_month {
        let (from, to) = month_days(month);
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO sales_outlet_sku_monthly \
                 (org_id, month, outlet_id, sku_id, records, zero_records, purchase_days, \
                  qty_scaled, value_scaled, first_purchase_day, last_purchase_day) \
             SELECT f.org_id, $2, f.outlet_id, f.sku_id, COUNT(*), \
                    SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN f.qty_scaled > 0 THEN 1 ELSE 0 END), \
                    SUM(f.qty_scaled), SUM(f.value_scaled), \
                    MIN(CASE WHEN f.qty_scaled > 0 THEN f.day END), \
                    MAX(CASE WHEN f.qty_scaled > 0 THEN f.day END) \
             FROM sales_facts f \
             WHERE f.org_id = $1 AND f.day BETWEEN $3 AND $4 \
             GROUP BY f.org_id, f.outlet_id, f.sku_id"
        )
        .bind(org_id)
        .bind(month)
        .bind(from)
        .bind(to)
        .execute(c)
        .await
        .map(|_| ()))?;
        // Each row of the outlet rollup is one outlet: COUNT(*) counts distinct outlets.
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO sales_monthly_rollup \
                 (org_id, month, area_id, sku_id, channel, records, zero_records, outlets, \
                  qty_scaled, value_scaled) \
             SELECT r.org_id, r.month, o.area_id, r.sku_id, o.channel, SUM(r.records), \
                    SUM(r.zero_records), COUNT(*), SUM(r.qty_scaled), SUM(r.value_scaled) \
             FROM sales_outlet_sku_monthly r \
             JOIN sales_fact_outlets o ON o.id = r.outlet_id \
             WHERE r.org_id = $1 AND r.month = $2 \
             GROUP BY r.org_id, r.month, o.area_id, r.sku_id, o.channel"
        )
        .bind(org_id)
        .bind(month)
        .execute(c)
        .await
        .map(|_| ()))?;
        step(ROLLUP_STEPS + usize::try_from(month - first_month).unwrap_or(0) + 1);
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
            moved.day = may_1 + 40;
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
            // The move touched only day `may_1 + 40`, yet O1's May 1 now rolls up under
            // East: the rollups still equal a GROUP BY of the facts.
            let east: i64 = on_pool!(test.db, |p| sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(r.records), 0) AS BIGINT) FROM sales_daily_rollup r \
                 JOIN sales_fact_areas a ON a.id = r.area_id \
                 WHERE r.org_id = $1 AND r.day = $2 AND a.precision_area = 'East'"
            )
            .bind(org)
            .bind(may_1)
            .fetch_one(p)
            .await)
            .expect("east");
            assert_eq!(east, 1);
            // The outlet rollup too: every outlet's records of a pack type on a day.
            let by_outlet: Vec<(i32, String, String, i64, i64)> = on_pool!(test.db, |p| {
                sqlx::query_as(
                    "SELECT r.day, o.outlet_code, a.precision_area, r.records, r.zero_records \
                 FROM sales_outlet_daily_rollup r \
                 JOIN sales_fact_outlets o ON o.id = r.outlet_id \
                 JOIN sales_fact_areas a ON a.id = r.area_id \
                 WHERE r.org_id = $1 AND r.pack_type = 'can 330ml' ORDER BY r.day, o.outlet_code",
                )
                .bind(org)
                .fetch_all(p)
                .await
            })
            .expect("outlet rollup");
            assert_eq!(
                by_outlet,
                vec![
                    (may_1, "O1".to_owned(), "East".to_owned(), 1, 0),
                    (may_1, "O2".to_owned(), "South".to_owned(), 1, 1),
                    (may_1 + 31, "O3".to_owned(), "South".to_owned(), 1, 1),
                    (may_1 + 40, "O1".to_owned(), "East".to_owned(), 1, 0),
                ]
            );
        }
    );

    db_test!(
        a_large_write_reports_progress_as_it_goes,
        [KERNEL, crate::MIGRATIONS],
        |test| {
            let org = Uuid::now_v7();
            let may_1 = day_number(NaiveDate::from_ymd_opt(2026, 5, 1).expect("date"));
            // Over one PostgreSQL chunk and many SQLite ones, across two months.
            let rows: Vec<FactRow> = (0..25_000)
                .map(|i| {
                    fact(
                        may_1 + i % 40,
                        &format!("O{}", i / 40),
                        "COLA-330",
                        "can 330ml",
                        i64::from(i % 3),
                    )
                })
                .collect();
            let seen = std::sync::Mutex::new(Vec::new());
            let record = |done: usize, total: usize| {
                seen.lock().expect("lock").push((done, total));
            };
            let mut tx = test.db.begin().await.expect("begin");
            write_fact_batch_reporting(
                &mut tx,
                org,
                Uuid::now_v7(),
                &FactBatch::from_rows(&rows),
                &record,
            )
            .await
            .expect("write");
            tx.commit().await.expect("commit");
            let seen = seen.into_inner().expect("lock");
            assert!(seen.iter().all(|(_, total)| *total == 50_000), "{seen:?}");
            assert!(
                seen.windows(2).all(|w| w[0].0 <= w[1].0),
                "never goes back: {seen:?}"
            );
            assert_eq!(seen.last().map(|s| s.0), Some(50_000));
            // Moves during the write and during the rollups, not only at the end.
            assert!(
                seen.iter().any(|(done, _)| *done > 0 && *done <= 25_000),
                "{seen:?}"
            );
            assert!(
                seen.iter()
                    .any(|(done, _)| *done > 25_000 && *done < 50_000),
                "{seen:?}"
            );
        }
    );

    #[test]
    fn a_batch_lists_each_dimension_once_and_the_last_row_wins() {
        let mut renamed = fact(1, "O1", "COLA-330", "can 330ml", 3);
        renamed.outlet_name = "Renamed".into();
        let rows = vec![
            fact(1, "O1", "COLA-330", "can 330ml", 5),
            fact(1, "O2", "COLA-330", "can 330ml", 1),
            fact(2, "O1", "COLA-1L", "pet 1l", 2),
            renamed,
        ];
        let batch = FactBatch::from_rows(&rows);
        assert_eq!(batch.areas.len(), 2, "O1 is North, O2 South");
        assert_eq!(batch.outlets.len(), 2);
        assert_eq!(batch.skus.len(), 2);
        assert_eq!(
            batch.outlets[0].name, "Renamed",
            "the latest row says what it is"
        );
        assert_eq!(batch.facts.len(), 3, "the repeated key is written once");
        assert_eq!(batch.facts[0].qty_scaled, 30_000, "and its last row wins");
        assert_eq!(batch.facts[2].sku, 1);
    }

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
