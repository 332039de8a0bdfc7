-- Purchase rollups for the predictions (issue 7, part 3b): next order, call list and
-- upsell read a store's purchases over the last year. Read from the facts that was every
-- linked outlet's year of rows per request (5.6 s for an upsell, 4.7 s for a call list of
-- 100 stores on SQLite at 10M facts). Both tables are maintained by the import
-- (`facts::rebuild_rollups`) next to the other rollups, in its transaction.

-- The days an outlet bought anything: how many SKU records had a quantity above zero and
-- their value (from sales_outlet_daily_rollup). Keyed by outlet: one store's year is one
-- short range. Only days with a purchase have a row.
CREATE TABLE sales_outlet_purchase_days (
    org_id                 UUID NOT NULL,
    outlet_id              BIGINT NOT NULL,
    day                    INTEGER NOT NULL,
    purchases              BIGINT NOT NULL,
    purchase_value_scaled  BIGINT NOT NULL,
    PRIMARY KEY (org_id, outlet_id, day)
);
CREATE INDEX sales_outlet_purchase_days_day ON sales_outlet_purchase_days (org_id, day);

-- Per month, outlet and SKU: records, zeros, purchase days, quantity, value, and the first
-- and last day with a purchase (NULL when none). The upsell's assortments (which SKUs each
-- store bought in a window of days) are exact from it: a month inside the window counts
-- when it has a purchase day, the window's first month when its last purchase day is in
-- the window, its last month when its first purchase day is. The trend rollup is summed
-- from it.
CREATE TABLE sales_outlet_sku_monthly (
    org_id              UUID NOT NULL,
    month               INTEGER NOT NULL,
    outlet_id           BIGINT NOT NULL,
    sku_id              BIGINT NOT NULL,
    records             BIGINT NOT NULL,
    zero_records        BIGINT NOT NULL,
    purchase_days       BIGINT NOT NULL,
    qty_scaled          BIGINT NOT NULL,
    value_scaled        BIGINT NOT NULL,
    first_purchase_day  INTEGER,
    last_purchase_day   INTEGER,
    PRIMARY KEY (org_id, month, outlet_id, sku_id)
);

-- Existing facts: the statements the import runs, over every day and month.
INSERT INTO sales_outlet_purchase_days (org_id, outlet_id, day, purchases, purchase_value_scaled)
SELECT org_id, outlet_id, day, SUM(purchases), SUM(purchase_value_scaled)
FROM sales_outlet_daily_rollup
WHERE purchases > 0
GROUP BY org_id, outlet_id, day;

INSERT INTO sales_outlet_sku_monthly
    (org_id, month, outlet_id, sku_id, records, zero_records, purchase_days, qty_scaled,
     value_scaled, first_purchase_day, last_purchase_day)
SELECT f.org_id, (CAST(EXTRACT(YEAR FROM DATE '1970-01-01' + f.day) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM DATE '1970-01-01' + f.day) AS INTEGER) - 1), f.outlet_id, f.sku_id, COUNT(*),
       SUM(CASE WHEN f.qty_scaled = 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN f.qty_scaled > 0 THEN 1 ELSE 0 END),
       SUM(f.qty_scaled), SUM(f.value_scaled),
       MIN(CASE WHEN f.qty_scaled > 0 THEN f.day END),
       MAX(CASE WHEN f.qty_scaled > 0 THEN f.day END)
FROM sales_facts f
GROUP BY f.org_id, (CAST(EXTRACT(YEAR FROM DATE '1970-01-01' + f.day) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM DATE '1970-01-01' + f.day) AS INTEGER) - 1), f.outlet_id, f.sku_id;
