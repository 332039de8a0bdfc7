-- Distributor sales (issue 7, first slice). Money is a scaled integer with 4 decimal
-- places (`*_scaled`, like the CRM's deal amounts) beside an ISO 4217 currency; so are
-- quantities and percentages. Dates without time are `YYYY-MM-DD` text.

-- A store is a CRM company with sales attributes: one row per company, keyed by it.
CREATE TABLE sales_stores (
    org_id                UUID NOT NULL,
    company_id            UUID NOT NULL,
    region                TEXT,
    province              TEXT,
    city                  TEXT,
    precision_area        TEXT,
    channel               TEXT,
    latitude              DOUBLE PRECISION,
    longitude             DOUBLE PRECISION,
    credit_limit_scaled   BIGINT,
    credit_currency       TEXT,
    assigned_rep          UUID,
    visit_frequency_days  INTEGER,
    price_list_id         UUID,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    version               BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, company_id)
);
CREATE INDEX sales_stores_rep ON sales_stores (org_id, assigned_rep, company_id);

CREATE TABLE sales_products (
    org_id           UUID NOT NULL,
    id               UUID NOT NULL,
    sku              TEXT NOT NULL,
    sku_key          TEXT NOT NULL,
    name             TEXT NOT NULL,
    brand            TEXT,
    category         TEXT,
    pack_type        TEXT,
    unit_of_measure  TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_products_sku UNIQUE (org_id, sku_key)
);

CREATE TABLE sales_price_lists (
    org_id      UUID NOT NULL,
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE sales_price_list_items (
    org_id             UUID NOT NULL,
    id                 UUID NOT NULL,
    price_list_id      UUID NOT NULL,
    product_id         UUID NOT NULL,
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
    org_id       UUID NOT NULL,
    kind         TEXT NOT NULL,
    year         INTEGER NOT NULL,
    last_number  BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, year)
);

CREATE TABLE sales_orders (
    org_id                  UUID NOT NULL,
    id                      UUID NOT NULL,
    number                  TEXT NOT NULL,
    store_id                UUID NOT NULL,
    status                  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    price_list_id           UUID,
    order_date              TEXT NOT NULL,
    subtotal_scaled         BIGINT NOT NULL,
    discount_scaled         BIGINT NOT NULL,
    tax_scaled              BIGINT NOT NULL,
    total_scaled            BIGINT NOT NULL,
    notes                   TEXT,
    created_by              UUID,
    credit_override_reason  TEXT,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_orders_number UNIQUE (org_id, number),
    FOREIGN KEY (org_id, store_id) REFERENCES sales_stores (org_id, company_id)
);
CREATE INDEX sales_orders_store ON sales_orders (org_id, store_id, status);

CREATE TABLE sales_order_lines (
    org_id                UUID NOT NULL,
    order_id              UUID NOT NULL,
    line_no               INTEGER NOT NULL,
    product_id            UUID NOT NULL,
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
    org_id           UUID NOT NULL,
    id               UUID NOT NULL,
    number           TEXT NOT NULL,
    order_id         UUID NOT NULL,
    store_id         UUID NOT NULL,
    currency         TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    subtotal_scaled  BIGINT NOT NULL,
    discount_scaled  BIGINT NOT NULL,
    tax_scaled       BIGINT NOT NULL,
    total_scaled     BIGINT NOT NULL,
    paid_scaled      BIGINT NOT NULL DEFAULT 0,
    credited_scaled  BIGINT NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_invoices_number UNIQUE (org_id, number),
    CONSTRAINT sales_invoices_order UNIQUE (org_id, order_id),
    FOREIGN KEY (org_id, order_id) REFERENCES sales_orders (org_id, id)
);
CREATE INDEX sales_invoices_store ON sales_invoices (org_id, store_id, status);

CREATE TABLE sales_payments (
    org_id            UUID NOT NULL,
    id                UUID NOT NULL,
    store_id          UUID NOT NULL,
    amount_scaled     BIGINT NOT NULL,
    allocated_scaled  BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    method            TEXT NOT NULL,
    received_on       TEXT NOT NULL,
    reference         TEXT,
    created_by        UUID,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, store_id) REFERENCES sales_stores (org_id, company_id)
);
CREATE INDEX sales_payments_store ON sales_payments (org_id, store_id, received_on);

CREATE TABLE sales_payment_allocations (
    org_id         UUID NOT NULL,
    payment_id     UUID NOT NULL,
    invoice_id     UUID NOT NULL,
    amount_scaled  BIGINT NOT NULL,
    PRIMARY KEY (org_id, payment_id, invoice_id),
    FOREIGN KEY (org_id, payment_id) REFERENCES sales_payments (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES sales_invoices (org_id, id)
);
CREATE INDEX sales_allocations_invoice ON sales_payment_allocations (org_id, invoice_id);

CREATE TABLE sales_credit_notes (
    org_id         UUID NOT NULL,
    id             UUID NOT NULL,
    number         TEXT NOT NULL,
    invoice_id     UUID NOT NULL,
    store_id       UUID NOT NULL,
    amount_scaled  BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    issued_on      TEXT NOT NULL,
    created_by     UUID,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT sales_credit_notes_number UNIQUE (org_id, number),
    FOREIGN KEY (org_id, invoice_id) REFERENCES sales_invoices (org_id, id)
);
CREATE INDEX sales_credit_notes_invoice ON sales_credit_notes (org_id, invoice_id);
