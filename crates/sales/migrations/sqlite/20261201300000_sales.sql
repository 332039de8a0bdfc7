-- Distributor sales (issue 7, first slice). Money is a scaled integer with 4 decimal
-- places (`*_scaled`, like the CRM's deal amounts) beside an ISO 4217 currency; so are
-- quantities and percentages. Dates without time are `YYYY-MM-DD` text.

-- A store is a CRM company with sales attributes: one row per company, keyed by it.
CREATE TABLE sales_stores (
    org_id                BLOB NOT NULL,
    company_id            BLOB NOT NULL,
    region                TEXT,
    province              TEXT,
    city                  TEXT,
    precision_area        TEXT,
    channel               TEXT,
    latitude              REAL,
    longitude             REAL,
    credit_limit_scaled   BIGINT,
    credit_currency       TEXT,
    assigned_rep          BLOB,
    visit_frequency_days  INTEGER,
    price_list_id         BLOB,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    version               BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, company_id)
);
CREATE INDEX sales_stores_rep ON sales_stores (org_id, assigned_rep, company_id);

CREATE TABLE sales_products (
    org_id           BLOB NOT NULL,
    id               BLOB NOT NULL,
    sku              TEXT NOT NULL,
    sku_key          TEXT NOT NULL,
    name             TEXT NOT NULL,
    brand            TEXT,
    category         TEXT,
    pack_type        TEXT,
    unit_of_measure  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_products_sku UNIQUE (org_id, sku_key)
);

CREATE TABLE sales_price_lists (
    org_id      BLOB NOT NULL,
    id          BLOB NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE sales_price_list_items (
    org_id             BLOB NOT NULL,
    id                 BLOB NOT NULL,
    price_list_id      BLOB NOT NULL,
    product_id         BLOB NOT NULL,
    unit_price_scaled  BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_to           TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, price_list_id) REFERENCES sales_price_lists (org_id, id),
    FOREIGN KEY (org_id, product_id) REFERENCES sales_products (org_id, id)
);
CREATE INDEX sales_price_items_product ON sales_price_list_items (org_id, price_list_id, product_id, valid_from);

-- Gap-free numbers per organisation, kind (SO, INV, CN) and year.
CREATE TABLE sales_counters (
    org_id       BLOB NOT NULL,
    kind         TEXT NOT NULL,
    year         INTEGER NOT NULL,
    last_number  BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, year)
);

CREATE TABLE sales_orders (
    org_id                  BLOB NOT NULL,
    id                      BLOB NOT NULL,
    number                  TEXT NOT NULL,
    store_id                BLOB NOT NULL,
    status                  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    price_list_id           BLOB,
    order_date              TEXT NOT NULL,
    subtotal_scaled         BIGINT NOT NULL,
    discount_scaled         BIGINT NOT NULL,
    tax_scaled              BIGINT NOT NULL,
    total_scaled            BIGINT NOT NULL,
    notes                   TEXT,
    created_by              BLOB,
    credit_override_reason  TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_orders_number UNIQUE (org_id, number),
    FOREIGN KEY (org_id, store_id) REFERENCES sales_stores (org_id, company_id)
);
CREATE INDEX sales_orders_store ON sales_orders (org_id, store_id, status);

CREATE TABLE sales_order_lines (
    org_id                BLOB NOT NULL,
    order_id              BLOB NOT NULL,
    line_no               INTEGER NOT NULL,
    product_id            BLOB NOT NULL,
    quantity_scaled       BIGINT NOT NULL,
    unit_price_scaled     BIGINT NOT NULL,
    discount_pct_scaled   BIGINT NOT NULL,
    tax_pct_scaled        BIGINT NOT NULL,
    gross_scaled          BIGINT NOT NULL,
    discount_scaled       BIGINT NOT NULL,
    net_scaled            BIGINT NOT NULL,
    tax_scaled            BIGINT NOT NULL,
    total_scaled          BIGINT NOT NULL,
    PRIMARY KEY (org_id, order_id, line_no),
    FOREIGN KEY (org_id, order_id) REFERENCES sales_orders (org_id, id),
    FOREIGN KEY (org_id, product_id) REFERENCES sales_products (org_id, id)
);

CREATE TABLE sales_invoices (
    org_id           BLOB NOT NULL,
    id               BLOB NOT NULL,
    number           TEXT NOT NULL,
    order_id         BLOB NOT NULL,
    store_id         BLOB NOT NULL,
    currency         TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    subtotal_scaled  BIGINT NOT NULL,
    discount_scaled  BIGINT NOT NULL,
    tax_scaled       BIGINT NOT NULL,
    total_scaled     BIGINT NOT NULL,
    paid_scaled      BIGINT NOT NULL DEFAULT 0,
    credited_scaled  BIGINT NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_invoices_number UNIQUE (org_id, number),
    CONSTRAINT sales_invoices_order UNIQUE (org_id, order_id),
    FOREIGN KEY (org_id, order_id) REFERENCES sales_orders (org_id, id)
);
CREATE INDEX sales_invoices_store ON sales_invoices (org_id, store_id, status);

CREATE TABLE sales_payments (
    org_id            BLOB NOT NULL,
    id                BLOB NOT NULL,
    store_id          BLOB NOT NULL,
    amount_scaled     BIGINT NOT NULL,
    allocated_scaled  BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    method            TEXT NOT NULL,
    received_on       TEXT NOT NULL,
    reference         TEXT,
    created_by        BLOB,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, store_id) REFERENCES sales_stores (org_id, company_id)
);
CREATE INDEX sales_payments_store ON sales_payments (org_id, store_id, received_on);

CREATE TABLE sales_payment_allocations (
    org_id         BLOB NOT NULL,
    payment_id     BLOB NOT NULL,
    invoice_id     BLOB NOT NULL,
    amount_scaled  BIGINT NOT NULL,
    PRIMARY KEY (org_id, payment_id, invoice_id),
    FOREIGN KEY (org_id, payment_id) REFERENCES sales_payments (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES sales_invoices (org_id, id)
);
CREATE INDEX sales_allocations_invoice ON sales_payment_allocations (org_id, invoice_id);

CREATE TABLE sales_credit_notes (
    org_id         BLOB NOT NULL,
    id             BLOB NOT NULL,
    number         TEXT NOT NULL,
    invoice_id     BLOB NOT NULL,
    store_id       BLOB NOT NULL,
    amount_scaled  BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    issued_on      TEXT NOT NULL,
    created_by     BLOB,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_credit_notes_number UNIQUE (org_id, number),
    FOREIGN KEY (org_id, invoice_id) REFERENCES sales_invoices (org_id, id)
);
CREATE INDEX sales_credit_notes_invoice ON sales_credit_notes (org_id, invoice_id);
