-- Sales facts imported from distributors' spreadsheets (issue 7, part 2), sized for
-- 10 million rows: narrow fact rows keyed by small integer dimension ids, and rollups
-- that the import maintains in the same transaction, which the analytics read instead of
-- the facts. Days are integers (days since 1970-01-01) and months are `year * 12 +
-- month - 1`, on both databases: 4 bytes instead of 10, range scans and month-on-month /
-- year-on-year arithmetic (`month - 1`, `month - 12`) are plain integer comparisons.
-- Quantities and values are scaled integers with 4 decimal places, as elsewhere in sales.

-- Geography: one row per (region, province, precision area).
CREATE TABLE sales_fact_areas (
    id              INTEGER PRIMARY KEY,
    org_id          BLOB NOT NULL,
    region          TEXT NOT NULL,
    province        TEXT NOT NULL,
    precision_area  TEXT NOT NULL,
    CONSTRAINT sales_fact_areas_key UNIQUE (org_id, region, province, precision_area)
);

-- An outlet as the spreadsheets name it; `store_id` links it to a store (CRM company)
-- when one has the same code, else stays empty.
CREATE TABLE sales_fact_outlets (
    id           INTEGER PRIMARY KEY,
    org_id       BLOB NOT NULL,
    outlet_code  TEXT NOT NULL,
    outlet_name  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    area_id      INTEGER NOT NULL REFERENCES sales_fact_areas (id),
    store_id     BLOB,
    CONSTRAINT sales_fact_outlets_code UNIQUE (org_id, outlet_code)
);

-- A SKU as the spreadsheets name it, with its pack type; `product_id` links it to a
-- product with the same SKU when there is one.
CREATE TABLE sales_fact_skus (
    id          INTEGER PRIMARY KEY,
    org_id      BLOB NOT NULL,
    sku         TEXT NOT NULL,
    pack_type   TEXT NOT NULL,
    product_id  BLOB,
    CONSTRAINT sales_fact_skus_sku UNIQUE (org_id, sku)
);

-- One observation: an outlet x SKU x day. A zero quantity is a real observation (the
-- outlet was visited and sold none). The key makes re-imports idempotent: the same
-- outlet, SKU and day again replaces the row instead of adding to it.
CREATE TABLE sales_facts (
    org_id        BLOB NOT NULL,
    day           INTEGER NOT NULL,
    outlet_id     INTEGER NOT NULL,
    sku_id        INTEGER NOT NULL,
    qty_scaled    BIGINT NOT NULL,
    value_scaled  BIGINT NOT NULL,
    import_id     BLOB NOT NULL,
    PRIMARY KEY (org_id, day, outlet_id, sku_id)
) WITHOUT ROWID;

-- Distribution-gap rollup: per day, area and pack type, how many outlet x SKU records
-- there were and how many sold zero. Rebuilt for the days an import touches.
CREATE TABLE sales_daily_rollup (
    org_id        BLOB NOT NULL,
    day           INTEGER NOT NULL,
    area_id       INTEGER NOT NULL,
    pack_type     TEXT NOT NULL,
    records       BIGINT NOT NULL,
    zero_records  BIGINT NOT NULL,
    qty_scaled    BIGINT NOT NULL,
    value_scaled  BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, area_id, pack_type)
) WITHOUT ROWID;

-- Trend rollup: per month, area, SKU and channel. Every trend dimension (region,
-- province, precision area, pack type, SKU, channel) is a grouping of it. Rebuilt for the
-- months an import touches.
CREATE TABLE sales_monthly_rollup (
    org_id        BLOB NOT NULL,
    month         INTEGER NOT NULL,
    area_id       INTEGER NOT NULL,
    sku_id        INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    records       BIGINT NOT NULL,
    zero_records  BIGINT NOT NULL,
    outlets       BIGINT NOT NULL,
    qty_scaled    BIGINT NOT NULL,
    value_scaled  BIGINT NOT NULL,
    PRIMARY KEY (org_id, month, area_id, sku_id, channel)
) WITHOUT ROWID;

-- Saved column mappings for sales-data imports (the built-in `sheet6` is not stored).
CREATE TABLE sales_import_mappings (
    org_id      BLOB NOT NULL,
    id          BLOB NOT NULL,
    name        TEXT NOT NULL,
    columns     TEXT NOT NULL,
    created_by  BLOB,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_import_mappings_name UNIQUE (org_id, name)
);

-- One row per sales-data import (dry runs included): what came in and what happened.
CREATE TABLE sales_imports (
    org_id         BLOB NOT NULL,
    id             BLOB NOT NULL,
    file_name      TEXT NOT NULL,
    file_sha256    TEXT NOT NULL,
    mapping_name   TEXT NOT NULL,
    source         TEXT NOT NULL,
    dry_run        BOOLEAN NOT NULL,
    skip_invalid   BOOLEAN NOT NULL,
    status         TEXT NOT NULL,
    rows_total     BIGINT NOT NULL DEFAULT 0,
    rows_invalid   BIGINT NOT NULL DEFAULT 0,
    rows_inserted  BIGINT NOT NULL DEFAULT 0,
    rows_replaced  BIGINT NOT NULL DEFAULT 0,
    period_from    INTEGER,
    period_to      INTEGER,
    report         TEXT,
    created_by     BLOB,
    created_at     TEXT NOT NULL,
    finished_at    TEXT,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX sales_imports_recent ON sales_imports (org_id, created_at);
