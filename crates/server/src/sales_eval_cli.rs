//! `meridian sales-eval`: evaluates the sales predictions (`sales::predict`) offline on
//! real data, each metric next to its baseline.
//!
//! * Orders (`--orders`, Online Retail II: customers = stores, StockCode = SKU, invoices =
//!   orders): a time split at `--cutoff`; next-order date MAE, basket precision/recall@k,
//!   upsell hit-rate@k and call-priority usefulness, each against naive baselines.
//! * Forecasts (`--forecasts`, Superstore order lines): monthly Region × Category and
//!   Region × Sub-Category quantity series (full grid, zeros filled), the last
//!   `--holdout` months held out: MASE and 80%/95% interval coverage of the forecast the
//!   API serves (`insight::forecast`, `ModelChoice::Auto`, ensemble kept) against
//!   seasonal naive, and how often the deviation alert would fire.
//!
//! ```text
//! meridian sales-eval \
//!   --orders ../shared/data/retail_online_retail_ii_2009_2010/online_retail_ii_2009-12_2010-12.csv \
//!   --forecasts ../shared/data/demand_superstore/superstore_orders.csv
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Args;
use insight::ModelChoice;
use rayon::prelude::*;
use sales::predict::deviation::{self, MonthlyForecast, Severity};
use sales::predict::next_order::{self, NextOrderParams};
use sales::predict::priority::{self, StoreSignals};
use sales::predict::upsell::{Assortments, UpsellParams};
use sales::predict::{Purchase, median, occasions};

/// `meridian sales-eval`.
#[derive(Args, Debug, Clone)]
pub struct SalesEvalArgs {
    /// Order lines CSV in the Online Retail II layout (Invoice, StockCode, Quantity,
    /// InvoiceDate, Price, Customer ID).
    #[arg(long)]
    pub orders: Option<PathBuf>,
    /// Last day of the training period (YYYY-MM-DD); the test period starts the day after.
    #[arg(long, default_value = "2010-09-30")]
    pub cutoff: NaiveDate,
    /// Last day of the test period.
    #[arg(long, default_value = "2010-12-09")]
    pub test_end: NaiveDate,
    /// Cut-off of the basket and upsell rankings.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Order lines CSV in the Superstore layout (Order Date, Region, Category,
    /// Sub-Category, Quantity) for the forecast evaluation.
    #[arg(long)]
    pub forecasts: Option<PathBuf>,
    /// Months held out at the end of each forecast series.
    #[arg(long, default_value_t = 12)]
    pub holdout: usize,
}

/// Why `meridian sales-eval` failed (one line).
#[derive(Debug, thiserror::Error)]
pub enum SalesEvalError {
    /// The input could not be read or parsed.
    #[error("{path}: {message}")]
    Input {
        /// Input path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The options do not make an evaluation.
    #[error("{0}")]
    Usage(String),
}

impl SalesEvalError {
    /// 2 for usage errors, 1 for unreadable input.
    pub fn exit_code(&self) -> u8 {
        match self {
            SalesEvalError::Usage(_) => 2,
            SalesEvalError::Input { .. } => 1,
        }
    }
}

fn day_of(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// Column positions by header name (case-insensitive).
fn columns(
    path: &Path,
    rdr: &mut csv::Reader<std::fs::File>,
    names: &[&str],
) -> Result<Vec<usize>, SalesEvalError> {
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| input_error(path, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    names
        .iter()
        .map(|n| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(n))
                .ok_or_else(|| {
                    input_error(
                        path,
                        format!("no column `{n}`; the header has: {}", header.join(", ")),
                    )
                })
        })
        .collect()
}

fn input_error(path: &Path, message: String) -> SalesEvalError {
    SalesEvalError::Input {
        path: path.into(),
        message,
    }
}

/// A product code of Online Retail II starts with five digits (85048, 79323P); the rest
/// are postage, fees, manual adjustments and tests (POST, D, M, BANK CHARGES, ...).
fn is_product_code(code: &str) -> bool {
    code.len() >= 5 && code.as_bytes()[..5].iter().all(u8::is_ascii_digit)
}

/// Purchases per customer; cancellations, returns, non-products and anonymous rows dropped.
fn read_orders(path: &Path) -> Result<BTreeMap<String, Vec<Purchase>>, SalesEvalError> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| input_error(path, e.to_string()))?;
    let idx = columns(
        path,
        &mut rdr,
        &[
            "Invoice",
            "StockCode",
            "Quantity",
            "InvoiceDate",
            "Price",
            "Customer ID",
        ],
    )?;
    let mut out: BTreeMap<String, Vec<Purchase>> = BTreeMap::new();
    for record in rdr.records() {
        let r = record.map_err(|e| input_error(path, e.to_string()))?;
        let get = |i: usize| r.get(idx[i]).unwrap_or_default().trim();
        let (invoice, code, customer) = (get(0), get(1), get(5));
        if invoice.starts_with('C') || customer.is_empty() || !is_product_code(code) {
            continue;
        }
        let qty: f64 = get(2).parse().unwrap_or(0.0);
        let price: f64 = get(4).parse().unwrap_or(0.0);
        let Some(date) = get(3)
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            return Err(input_error(
                path,
                format!(
                    "line {}: bad InvoiceDate `{}`",
                    r.position().map_or(0, csv::Position::line),
                    get(3)
                ),
            ));
        };
        if qty <= 0.0 || price <= 0.0 {
            continue;
        }
        let customer = customer.trim_end_matches(".0").to_owned();
        out.entry(customer).or_default().push(Purchase {
            day: day_of(date),
            sku: code.to_uppercase(),
            qty,
            value: qty * price,
        });
    }
    Ok(out)
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// precision@k and recall@k of a ranking against the set actually bought.
fn precision_recall(ranked: &[String], actual: &BTreeSet<&str>, k: usize) -> (f64, f64) {
    let hits = ranked
        .iter()
        .take(k)
        .filter(|s| actual.contains(s.as_str()))
        .count() as f64;
    (hits / k as f64, hits / actual.len().max(1) as f64)
}

/// Runs the evaluation and prints the report on standard output.
pub fn run(args: &SalesEvalArgs) -> Result<(), SalesEvalError> {
    if args.orders.is_none() && args.forecasts.is_none() {
        return Err(SalesEvalError::Usage(
            "give --orders, --forecasts or both".into(),
        ));
    }
    if args.k == 0 || args.test_end <= args.cutoff {
        return Err(SalesEvalError::Usage(
            "--k must be at least 1 and --test-end after --cutoff".into(),
        ));
    }
    let started = std::time::Instant::now();
    if let Some(path) = &args.orders {
        evaluate_orders(path, args)?;
    }
    if let Some(path) = &args.forecasts {
        evaluate_forecasts(path, args.holdout)?;
    }
    println!("\ntotal time {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn evaluate_orders(path: &Path, args: &SalesEvalArgs) -> Result<(), SalesEvalError> {
    let customers = read_orders(path)?;
    let today = day_of(args.cutoff) + 1;
    let end = day_of(args.test_end);
    let k = args.k;
    let lines: usize = customers.values().map(Vec::len).sum();
    println!(
        "== orders: {} ({} customers, {lines} product lines kept)",
        path.display(),
        customers.len()
    );
    println!(
        "split: train up to {}, test {} .. {} (\"today\" = the first test day)",
        args.cutoff,
        args.cutoff + chrono::Days::new(1),
        args.test_end
    );

    struct Customer<'a> {
        train: Vec<Purchase>,
        test: Vec<&'a Purchase>,
    }
    let all: Vec<Customer> = customers
        .values()
        .map(|h| Customer {
            train: h.iter().filter(|p| p.day < today).cloned().collect(),
            test: h
                .iter()
                .filter(|p| p.day >= today && p.day <= end)
                .collect(),
        })
        .filter(|c| !c.train.is_empty())
        .collect();
    let params = NextOrderParams::default();
    let predictions: Vec<next_order::NextOrder> = all
        .par_iter()
        .map(|c| next_order::predict(&c.train, today, &params))
        .collect();

    // ---- next-order date
    let all_intervals: Vec<f64> = all
        .iter()
        .flat_map(|c| {
            let d = occasions(&c.train, today);
            d.windows(2)
                .map(|w| f64::from(w[1] - w[0]))
                .collect::<Vec<_>>()
        })
        .collect();
    let global_median = median(&all_intervals).unwrap_or(30.0);
    // Per method: errors for customers who bought in the test period, and for everyone
    // with a prediction (a customer who did not buy by the end ordered at the earliest the
    // day after: the error counted is that lower bound, 0 for a prediction beyond it).
    let mut bought: [Vec<f64>; 4] = Default::default();
    let mut everyone: [Vec<f64>; 4] = Default::default();
    for (c, p) in all.iter().zip(&predictions) {
        let (Some(expected), Some(last)) = (p.expected_on, p.last_order) else {
            continue;
        };
        let days = occasions(&c.train, today);
        let gaps: Vec<f64> = days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
        let last_gap = gaps.last().copied().unwrap_or(global_median);
        // Every method knows nothing was bought before today: a date in the past means today.
        let predicted = [
            f64::from(expected),
            f64::from(last) + last_gap,
            f64::from(last) + global_median,
            f64::from(last) + mean(&gaps),
        ]
        .map(|d| d.max(f64::from(today)));
        let actual = c.test.iter().map(|p| p.day).min();
        for (j, d) in predicted.iter().enumerate() {
            match actual {
                Some(a) => {
                    bought[j].push((d - f64::from(a)).abs());
                    everyone[j].push((d - f64::from(a)).abs());
                }
                None => everyone[j].push((f64::from(end + 1) - d).max(0.0)),
            }
        }
    }
    println!(
        "\n-- next-order date: customers with >= 2 order days ({}; {} of them bought in the test period)",
        everyone[0].len(),
        bought[0].len()
    );
    println!(
        "  {:<46} {:>12} {:>24}",
        "", "MAE, buyers", "MAE, all (lower bound)"
    );
    let global_name = format!("baseline: global median interval ({global_median:.0} d)");
    for (j, name) in [
        "model (median of the last 6 intervals)",
        "baseline: last interval",
        global_name.as_str(),
        "baseline: mean of all own intervals",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "  {name:<46} {:>12.2} {:>24.2}",
            mean(&bought[j]),
            mean(&everyone[j])
        );
    }

    // ---- basket of the next order
    let mut global_pop: HashMap<&str, usize> = HashMap::new();
    for c in &all {
        let skus: BTreeSet<&str> = c.train.iter().map(|p| p.sku.as_str()).collect();
        for s in skus {
            *global_pop.entry(s).or_default() += 1;
        }
    }
    let mut popular: Vec<(&str, usize)> = global_pop.iter().map(|(s, n)| (*s, *n)).collect();
    popular.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let popular: Vec<String> = popular
        .iter()
        .take(k)
        .map(|(s, _)| (*s).to_owned())
        .collect();
    let frequent = NextOrderParams {
        basket_orders: usize::MAX,
        half_life_orders: f64::INFINITY,
        ..NextOrderParams::default()
    };
    let scored: Vec<[(f64, f64); 3]> = all
        .par_iter()
        .filter_map(|c| {
            let first = c.test.iter().map(|p| p.day).min()?;
            let actual: BTreeSet<&str> = c
                .test
                .iter()
                .filter(|p| p.day == first)
                .map(|p| p.sku.as_str())
                .collect();
            let rank = |p: &NextOrderParams| -> Vec<String> {
                next_order::likely_basket(&c.train, today, p)
                    .into_iter()
                    .map(|i| i.sku)
                    .collect()
            };
            Some([
                precision_recall(&rank(&params), &actual, k),
                precision_recall(&rank(&frequent), &actual, k),
                precision_recall(&popular, &actual, k),
            ])
        })
        .collect();
    let avg = |j: usize| -> (f64, f64) {
        (
            mean(&scored.iter().map(|s| s[j].0).collect::<Vec<_>>()),
            mean(&scored.iter().map(|s| s[j].1).collect::<Vec<_>>()),
        )
    };
    println!(
        "\n-- basket of the next order ({} customers; actual = products of their first test-period order day)",
        scored.len()
    );
    for (j, name) in [
        "model (last 10 orders, half-life 4 orders)",
        "baseline: customer's most frequent items",
        "baseline: globally most popular items",
    ]
    .iter()
    .enumerate()
    {
        let (p, r) = avg(j);
        println!("  {name:<44} precision@{k} {p:.4}   recall@{k} {r:.4}");
    }

    // ---- upsell
    let index = Assortments::new(
        &all.iter()
            .map(|c| c.train.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    let up = UpsellParams::default();
    let hits: Vec<UpsellHit> = (0..all.len())
        .into_par_iter()
        .filter_map(|i| {
            let c = &all[i];
            let owned: BTreeSet<&str> = c.train.iter().map(|p| p.sku.as_str()).collect();
            let new: BTreeSet<&str> = c
                .test
                .iter()
                .map(|p| p.sku.as_str())
                .filter(|s| !owned.contains(s))
                .collect();
            if c.test.is_empty() {
                return None;
            }
            let model: Vec<String> = index
                .suggest(i, &up)
                .into_iter()
                .take(k)
                .map(|s| s.sku)
                .collect();
            let base: Vec<String> = index
                .popular_missing(i, k)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let count = |v: &[String]| v.iter().filter(|s| new.contains(s.as_str())).count();
            Some((
                count(&model) > 0,
                count(&base) > 0,
                count(&model) as f64 / k as f64,
                count(&base) as f64 / k as f64,
            ))
        })
        .collect();
    let share = |f: &dyn Fn(&UpsellHit) -> f64| mean(&hits.iter().map(f).collect::<Vec<_>>());
    println!(
        "\n-- upsell ({} customers who bought in the test period; hit = bought a suggested product new to them)",
        hits.len()
    );
    println!(
        "  model (20 most similar customers, Jaccard)   hit-rate@{k} {:.4}   precision@{k} {:.4}",
        share(&|h| f64::from(u8::from(h.0))),
        share(&|h| h.2)
    );
    println!(
        "  baseline: most popular products not owned    hit-rate@{k} {:.4}   precision@{k} {:.4}",
        share(&|h| f64::from(u8::from(h.1))),
        share(&|h| h.3)
    );

    // ---- call priority
    let signals: Vec<StoreSignals> = all
        .iter()
        .zip(&predictions)
        .map(|(c, p)| StoreSignals::from_history(&c.train, today, p.interval_days))
        .collect();
    let scores = priority::score(&signals);
    println!(
        "\n-- call priority ({} customers scored at {}; share of the top N who ordered within the horizon)",
        all.len(),
        args.cutoff + chrono::Days::new(1)
    );
    for horizon in [7, 14, 30] {
        let bought: Vec<bool> = all
            .iter()
            .map(|c| c.test.iter().any(|p| p.day < today + horizon))
            .collect();
        let base_rate = bought.iter().filter(|b| **b).count() as f64 / bought.len().max(1) as f64;
        let top_share = |key: &dyn Fn(usize) -> f64, n: usize| -> f64 {
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.sort_by(|a, b| key(*b).total_cmp(&key(*a)).then(a.cmp(b)));
            order.iter().take(n).filter(|i| bought[**i]).count() as f64
                / n.min(all.len()).max(1) as f64
        };
        for n in [100, 500] {
            println!(
                "  within {horizon:>2} days, top {n:>3}: score {:.3}   value only {:.3}   overdue only {:.3}   random {:.3}",
                top_share(&|i| scores[i].score, n),
                top_share(&|i| signals[i].recent_value, n),
                top_share(
                    &|i| scores[i]
                        .reasons
                        .iter()
                        .find(|r| r.factor == priority::Factor::Overdue)
                        .map_or(0.0, |r| r.points)
                        + signals[i].recent_value * 1e-12,
                    n
                ),
                base_rate
            );
        }
    }
    Ok(())
}

/// Monthly quantity series per key (full grid of the keys seen × every month).
fn read_superstore(path: &Path) -> Result<(Vec<String>, Series, Series), SalesEvalError> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| input_error(path, e.to_string()))?;
    let idx = columns(
        path,
        &mut rdr,
        &[
            "Order Date",
            "Region",
            "Category",
            "Sub-Category",
            "Quantity",
        ],
    )?;
    let mut rows: Vec<(i32, String, String, f64)> = Vec::new();
    for record in rdr.records() {
        let r = record.map_err(|e| input_error(path, e.to_string()))?;
        let get = |i: usize| r.get(idx[i]).unwrap_or_default().trim();
        let date = NaiveDate::parse_from_str(get(0), "%Y-%m-%d")
            .map_err(|e| input_error(path, format!("bad Order Date `{}`: {e}", get(0))))?;
        let month = chrono::Datelike::year(&date) * 12 + chrono::Datelike::month0(&date) as i32;
        let qty: f64 = get(4).parse().unwrap_or(0.0);
        rows.push((
            month,
            format!("{} / {}", get(1), get(2)),
            format!("{} / {}", get(1), get(3)),
            qty,
        ));
    }
    let (Some(first), Some(last)) = (
        rows.iter().map(|r| r.0).min(),
        rows.iter().map(|r| r.0).max(),
    ) else {
        return Err(input_error(path, "no rows".into()));
    };
    let n = (last - first + 1) as usize;
    let months: Vec<String> = (first..=last)
        .map(|m| format!("{}-{:02}", m / 12, m % 12 + 1))
        .collect();
    let (mut cat, mut sub): (Series, Series) = Default::default();
    for (m, c, s, q) in rows {
        cat.entry(c).or_insert_with(|| vec![0.0; n])[(m - first) as usize] += q;
        sub.entry(s).or_insert_with(|| vec![0.0; n])[(m - first) as usize] += q;
    }
    Ok((months, cat, sub))
}

/// Monthly series by key.
type Series = BTreeMap<String, Vec<f64>>;

/// Per customer: (model hit, baseline hit, model precision, baseline precision).
type UpsellHit = (bool, bool, f64, f64);

/// Per series: model scores, seasonal naive scores, model kept, alerts raised, months checked.
type SeriesResult = (Option<Scores>, Option<Scores>, String, usize, usize);

struct Scores {
    mase: f64,
    cover80: f64,
    cover95: f64,
}

/// MASE (scaled by the in-sample seasonal naive error) and interval coverage on the holdout.
fn holdout_scores(train: &[f64], test: &[f64], f: &MonthlyForecast) -> Option<Scores> {
    let m = 12.min(train.len() - 1).max(1);
    let scale = mean(
        &(m..train.len())
            .map(|t| (train[t] - train[t - m]).abs())
            .collect::<Vec<_>>(),
    );
    if scale.is_nan() || scale <= 0.0 {
        return None;
    }
    let errors: Vec<f64> = test
        .iter()
        .zip(&f.mean)
        .map(|(a, p)| (a - p).abs())
        .collect();
    let inside = |lo: &[f64], hi: &[f64]| {
        test.iter()
            .enumerate()
            .filter(|(i, a)| **a >= lo[*i] && **a <= hi[*i])
            .count() as f64
            / test.len() as f64
    };
    Some(Scores {
        mase: mean(&errors) / scale,
        cover80: inside(&f.lower_80, &f.upper_80),
        cover95: inside(&f.lower_95, &f.upper_95),
    })
}

fn evaluate_forecasts(path: &Path, holdout: usize) -> Result<(), SalesEvalError> {
    let (months, by_category, by_sub) = read_superstore(path)?;
    if holdout == 0 || months.len() < holdout + 24 {
        return Err(SalesEvalError::Usage(format!(
            "--holdout {holdout} leaves fewer than 24 of the {} months to fit on",
            months.len()
        )));
    }
    let fit_len = months.len() - holdout;
    println!(
        "\n== forecasts: {} (monthly quantity, {} .. {}; holdout the last {holdout} months from {})",
        path.display(),
        months[0],
        months[months.len() - 1],
        months[fit_len]
    );
    for (level, series) in [
        ("Region × Category", &by_category),
        ("Region × Sub-Category", &by_sub),
    ] {
        let results: Vec<SeriesResult> = series
            .par_iter()
            .map(|(_, y)| {
                let (train, test) = y.split_at(fit_len);
                let model = deviation::forecast_with(train, holdout, ModelChoice::Auto);
                let naive = deviation::forecast_with(train, holdout, ModelChoice::Naive);
                // One-step-ahead alerts over the holdout months (what the API would raise).
                let alerts = deviation::backtest(y, holdout);
                let raised = alerts
                    .iter()
                    .filter(|b| b.severity.is_some_and(Severity::is_raised))
                    .count();
                (
                    model.as_ref().and_then(|f| holdout_scores(train, test, f)),
                    naive.as_ref().and_then(|f| holdout_scores(train, test, f)),
                    model.map(|f| f.model).unwrap_or_default(),
                    raised,
                    alerts.len(),
                )
            })
            .collect();
        let both: Vec<(&Scores, &Scores)> = results
            .iter()
            .filter_map(|r| Some((r.0.as_ref()?, r.1.as_ref()?)))
            .collect();
        let pick =
            |f: &dyn Fn(&(&Scores, &Scores)) -> f64| mean(&both.iter().map(f).collect::<Vec<_>>());
        let wins = both.iter().filter(|(m, n)| m.mase < n.mase).count();
        let mut models: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &results {
            *models.entry(r.2.as_str()).or_default() += 1;
        }
        let raised: usize = results.iter().map(|r| r.3).sum();
        let checked: usize = results.iter().map(|r| r.4).sum();
        println!(
            "\n-- {level}: {} series ({} scored; models kept: {models:?})",
            results.len(),
            both.len()
        );
        println!(
            "  model (insight Auto, ensemble)  MASE {:.3}   coverage 80% {:.3}   95% {:.3}",
            pick(&|s| s.0.mase),
            pick(&|s| s.0.cover80),
            pick(&|s| s.0.cover95)
        );
        println!(
            "  baseline: seasonal naive (m=12) MASE {:.3}   coverage 80% {:.3}   95% {:.3}",
            pick(&|s| s.1.mase),
            pick(&|s| s.1.cover80),
            pick(&|s| s.1.cover95)
        );
        println!(
            "  model beats seasonal naive on {wins} of {} series",
            both.len()
        );
        println!(
            "  deviation alerts (HIGH/CRITICAL) on one-step backtests of the holdout months: {raised} of {checked} series-months ({:.1}%)",
            100.0 * raised as f64 / checked.max(1) as f64
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_codes_start_with_five_digits() {
        assert!(is_product_code("85048"));
        assert!(is_product_code("79323P"));
        assert!(!is_product_code("POST"));
        assert!(!is_product_code("D"));
        assert!(!is_product_code("BANK CHARGES"));
        assert!(!is_product_code("C2"));
    }

    #[test]
    fn precision_and_recall_at_k() {
        let ranked: Vec<String> = ["A", "B", "C"].iter().map(|s| (*s).to_owned()).collect();
        let actual: BTreeSet<&str> = ["B", "D"].into_iter().collect();
        assert_eq!(precision_recall(&ranked, &actual, 2), (0.5, 0.5));
        assert_eq!(precision_recall(&ranked, &actual, 1), (0.0, 0.0));
    }

    #[test]
    fn mase_scales_by_the_seasonal_naive_error() {
        // Training alternates by 2 a year apart → scale 2; errors of 1 → MASE 0.5.
        let train: Vec<f64> = (0..24).map(|t| if t < 12 { 10.0 } else { 12.0 }).collect();
        let f = MonthlyForecast {
            model: "x".into(),
            mean: vec![13.0, 13.0],
            lower_80: vec![12.0, 13.5],
            upper_80: vec![14.0, 14.0],
            lower_95: vec![11.0, 11.0],
            upper_95: vec![15.0, 15.0],
        };
        let s = holdout_scores(&train, &[12.0, 12.0], &f).expect("scores");
        assert_eq!(s.mase, 0.5);
        assert_eq!(s.cover80, 0.5);
        assert_eq!(s.cover95, 1.0);
    }
}
