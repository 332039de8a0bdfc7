//! Upsell suggestions: products that stores with a similar assortment buy and this store
//! does not (user-based collaborative filtering on "which products does a store buy").
//!
//! Similarity of two stores is the Jaccard index of their product sets; the `neighbours`
//! most similar stores vote for each product the store lacks, weighted by similarity.
//! The co-purchase lift of a product is its share among the similar stores over its
//! share among all stores: 1 means "popular everywhere", above 1 means "especially
//! bought by stores like this one" — the reason a rep can say out loud.

use std::collections::{BTreeMap, HashMap};

/// How suggestions are formed.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsellParams {
    /// How many of the most similar stores vote.
    pub neighbours: usize,
    /// A product needs at least this many similar stores buying it.
    pub min_stores: usize,
}

impl Default for UpsellParams {
    fn default() -> Self {
        Self {
            neighbours: 20,
            min_stores: 2,
        }
    }
}

/// A product suggested to a store.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Product key.
    pub sku: String,
    /// Similarity-weighted share of the similar stores buying it, in [0, 1].
    pub score: f64,
    /// Share among the similar stores over the share among all stores.
    pub lift: f64,
    /// Share of the similar stores buying it, in [0, 1].
    pub similar_stores_share: f64,
    /// How many similar stores buy it.
    pub similar_stores: usize,
    /// How many similar stores voted.
    pub neighbours: usize,
}

impl Suggestion {
    /// The reason in words, for the rep.
    pub fn reason(&self) -> String {
        format!(
            "bought by {} of the {} stores with the most similar assortment ({:.0}%), {:.1}× its rate among all stores",
            self.similar_stores,
            self.neighbours,
            self.similar_stores_share * 100.0,
            self.lift
        )
    }
}

/// Which store buys which products, indexed both ways.
#[derive(Debug, Clone, Default)]
pub struct Assortments {
    skus: Vec<String>,
    /// Per store: its product ids, ascending.
    by_store: Vec<Vec<u32>>,
    /// Per product: the stores buying it, ascending.
    by_product: Vec<Vec<u32>>,
}

impl Assortments {
    /// From each store's products (store i = `stores[i]`; duplicates are fine).
    pub fn new<S: AsRef<str>>(stores: &[Vec<S>]) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut skus = Vec::new();
        let mut by_store = Vec::with_capacity(stores.len());
        for items in stores {
            let mut mine: Vec<u32> = items
                .iter()
                .map(|s| {
                    let s = s.as_ref();
                    *ids.entry(s.to_owned()).or_insert_with(|| {
                        skus.push(s.to_owned());
                        (skus.len() - 1) as u32
                    })
                })
                .collect();
            mine.sort_unstable();
            mine.dedup();
            by_store.push(mine);
        }
        let mut by_product = vec![Vec::new(); skus.len()];
        for (s, items) in by_store.iter().enumerate() {
            for i in items {
                by_product[*i as usize].push(s as u32);
            }
        }
        Self {
            skus,
            by_store,
            by_product,
        }
    }

    /// Number of stores.
    pub fn stores(&self) -> usize {
        self.by_store.len()
    }

    /// Products store `store` does not buy, best first (ties: higher lift, then SKU).
    pub fn suggest(&self, store: usize, params: &UpsellParams) -> Vec<Suggestion> {
        let Some(mine) = self.by_store.get(store) else {
            return Vec::new();
        };
        // Shared products with every store that shares any (the inverted index keeps this
        // proportional to the overlap, not to the number of stores).
        let mut shared: HashMap<u32, u32> = HashMap::new();
        for item in mine {
            for other in &self.by_product[*item as usize] {
                if *other as usize != store {
                    *shared.entry(*other).or_default() += 1;
                }
            }
        }
        let mut similar: Vec<(u32, f64)> = shared
            .into_iter()
            .map(|(other, common)| {
                let union = mine.len() + self.by_store[other as usize].len() - common as usize;
                (other, f64::from(common) / union as f64)
            })
            .collect();
        similar.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        similar.truncate(params.neighbours);
        let total_weight: f64 = similar.iter().map(|(_, w)| w).sum();
        if similar.is_empty() || total_weight <= 0.0 {
            return Vec::new();
        }
        let mut votes: BTreeMap<u32, (f64, usize)> = BTreeMap::new();
        for (other, weight) in &similar {
            for item in &self.by_store[*other as usize] {
                if mine.binary_search(item).is_err() {
                    let v = votes.entry(*item).or_default();
                    v.0 += weight;
                    v.1 += 1;
                }
            }
        }
        let n = similar.len();
        let all = self.stores() as f64;
        let mut out: Vec<Suggestion> = votes
            .into_iter()
            .filter(|(_, (_, count))| *count >= params.min_stores)
            .map(|(item, (weight, count))| {
                let share = count as f64 / n as f64;
                let overall = self.by_product[item as usize].len() as f64 / all;
                Suggestion {
                    sku: self.skus[item as usize].clone(),
                    score: weight / total_weight,
                    lift: share / overall,
                    similar_stores_share: share,
                    similar_stores: count,
                    neighbours: n,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.lift.total_cmp(&a.lift))
                .then_with(|| a.sku.cmp(&b.sku))
        });
        out
    }

    /// The most widely bought products store `store` does not buy (the popularity
    /// baseline of the evaluation), with their share of all stores.
    pub fn popular_missing(&self, store: usize, k: usize) -> Vec<(String, f64)> {
        let mine = self.by_store.get(store).map(Vec::as_slice).unwrap_or(&[]);
        let mut items: Vec<(u32, usize)> = (0..self.skus.len() as u32)
            .filter(|i| mine.binary_search(i).is_err())
            .map(|i| (i, self.by_product[i as usize].len()))
            .collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        items
            .into_iter()
            .take(k)
            .map(|(i, n)| {
                (
                    self.skus[i as usize].clone(),
                    n as f64 / self.stores().max(1) as f64,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stores() -> Assortments {
        Assortments::new(&[
            vec!["COLA", "WATER", "CHIPS"],           // 0: the store we suggest to
            vec!["COLA", "WATER", "CHIPS", "NUTS"],   // 1: like 0, plus nuts
            vec!["COLA", "WATER", "CHIPS", "NUTS"],   // 2: like 0, plus nuts
            vec!["COLA", "WATER", "JUICE"],           // 3: less similar, juice
            vec!["SOAP", "JUICE", "SHAMPOO"],         // 4: unrelated
            vec!["SOAP", "SHAMPOO", "JUICE", "COLA"], // 5: unrelated, cola
        ])
    }

    #[test]
    fn suggests_what_similar_stores_buy_and_this_one_does_not() {
        let a = stores();
        let s = a.suggest(0, &UpsellParams::default());
        let skus: Vec<&str> = s.iter().map(|s| s.sku.as_str()).collect();
        // NUTS: stores 1 and 2 (Jaccard 0.75 each); JUICE: 3 (0.5), 4 (0), 5 (1/6).
        assert_eq!(skus[0], "NUTS");
        assert!(!skus.contains(&"COLA"), "never what it already buys");
        let nuts = &s[0];
        assert_eq!(nuts.similar_stores, 2);
        assert_eq!(nuts.neighbours, 4);
        assert_eq!(nuts.similar_stores_share, 0.5);
        // NUTS is bought by 2 of 6 stores: lift = 0.5 / (2/6) = 1.5.
        assert!((nuts.lift - 1.5).abs() < 1e-12);
        assert!((nuts.score - 1.5 / (0.75 + 0.75 + 0.5 + 1.0 / 6.0)).abs() < 1e-12);
        assert!(nuts.reason().contains("2 of the 4"));
    }

    #[test]
    fn a_product_needs_enough_similar_stores() {
        let a = stores();
        let strict = UpsellParams {
            neighbours: 20,
            min_stores: 3,
        };
        assert!(a.suggest(0, &strict).is_empty());
        let narrow = UpsellParams {
            neighbours: 2,
            min_stores: 1,
        };
        let s = a.suggest(0, &narrow);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].sku, "NUTS");
        assert_eq!(s[0].similar_stores_share, 1.0);
    }

    #[test]
    fn unknown_or_isolated_store_gets_nothing() {
        let a = Assortments::new(&[vec!["A"], vec!["B"]]);
        assert!(a.suggest(0, &UpsellParams::default()).is_empty());
        assert!(a.suggest(7, &UpsellParams::default()).is_empty());
    }

    #[test]
    fn popularity_baseline_skips_owned_products() {
        let a = stores();
        let p = a.popular_missing(0, 2);
        assert_eq!(p[0].0, "JUICE");
        assert_eq!(p[0].1, 0.5);
        assert!(p.iter().all(|(s, _)| s != "COLA"));
    }
}
