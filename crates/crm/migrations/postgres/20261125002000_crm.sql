-- Sales pipelines and their ordered stages (kind: open, won, lost).
CREATE TABLE pipelines (
    org_id      UUID NOT NULL,
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    is_default  BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE pipeline_stages (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    pipeline_id  UUID NOT NULL,
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    probability  INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id)
);

-- Customers and prospects.
CREATE TABLE companies (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    domain       TEXT,
    industry     TEXT,
    site_id      UUID,
    owner_id     UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX companies_name ON companies (org_id, name_key, id);

-- People. email and phone are PII: stored encrypted, found through blind indexes.
CREATE TABLE contacts (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    company_id   UUID,
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    email_enc    TEXT,
    email_index  TEXT,
    phone_enc    TEXT,
    phone_index  TEXT,
    title        TEXT,
    owner_id     UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id)
);
CREATE INDEX contacts_name ON contacts (org_id, name_key, id);
CREATE INDEX contacts_email ON contacts (org_id, email_index);
CREATE INDEX contacts_company ON contacts (org_id, company_id);

-- Opportunities: amount is a scaled integer (4 decimal places) with its ISO 4217 currency.
CREATE TABLE deals (
    org_id               UUID NOT NULL,
    id                   UUID NOT NULL,
    title                TEXT NOT NULL,
    amount_scaled        BIGINT NOT NULL,
    currency             TEXT NOT NULL,
    pipeline_id          UUID NOT NULL,
    stage_id             UUID NOT NULL,
    position             BIGINT NOT NULL,
    probability          INTEGER NOT NULL,
    expected_close_date  TEXT,
    status               TEXT NOT NULL,
    lost_reason          TEXT,
    company_id           UUID,
    owner_id             UUID,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, stage_id) REFERENCES pipeline_stages (org_id, id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id)
);
CREATE INDEX deals_board ON deals (org_id, pipeline_id, stage_id, position, id);
CREATE INDEX deals_company ON deals (org_id, company_id);
