-- Sales analytics (issue 7, part 3a): market totals for market share, and the alert log
-- that de-duplicates alert events per (kind, key, period).

-- Market size per month, region and pack type, as bought from a panel or a distributor
-- association. Re-importing the same key replaces the row.
CREATE TABLE sales_market_totals (
    org_id               BLOB NOT NULL,
    month                INTEGER NOT NULL,
    region               TEXT NOT NULL,
    pack_type            TEXT NOT NULL,
    market_value_scaled  BIGINT NOT NULL,
    market_qty_scaled    BIGINT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (org_id, month, region, pack_type)
) WITHOUT ROWID;

-- Every alert raised (`sales.distribution_gap`, `sales.share_erosion`,
-- `sales.forecast_deviation`); the unique key makes a re-scan emit nothing new.
CREATE TABLE sales_alerts (
    org_id      BLOB NOT NULL,
    id          BLOB NOT NULL,
    kind        TEXT NOT NULL,
    alert_key   TEXT NOT NULL,
    period      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    title       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    event_id    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_alerts_once UNIQUE (org_id, kind, alert_key, period)
);
CREATE INDEX sales_alerts_recent ON sales_alerts (org_id, created_at);

-- The gap recommendation names the outlets of one precision area.
CREATE INDEX sales_fact_outlets_area ON sales_fact_outlets (org_id, area_id);
