-- Custom fields: typed fields an organisation adds to companies, contacts, leads and deals.
-- A key is never reused, even after its field is archived: records may still hold values
-- under it.
CREATE TABLE custom_fields (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    object       TEXT NOT NULL,
    key          TEXT NOT NULL,
    label        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    options      TEXT NOT NULL DEFAULT '[]',
    link_object  TEXT,
    required     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, object, key)
);

-- Each record's values, a JSON object keyed by the field's key.
ALTER TABLE companies ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE leads ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deals ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';

-- The people involved in a deal (besides its company).
CREATE TABLE deal_contacts (
    org_id      UUID NOT NULL,
    deal_id     UUID NOT NULL,
    contact_id  UUID NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, deal_id, contact_id)
);
CREATE INDEX deal_contacts_contact ON deal_contacts (org_id, contact_id);

-- Imports run in the background for large files: their progress and final report.
CREATE TABLE import_jobs (
    org_id          UUID NOT NULL,
    id              UUID NOT NULL,
    object          TEXT NOT NULL,
    status          TEXT NOT NULL,
    total_rows      BIGINT NOT NULL DEFAULT 0,
    processed_rows  BIGINT NOT NULL DEFAULT 0,
    report          TEXT,
    error           TEXT,
    created_by      UUID,
    created_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    PRIMARY KEY (org_id, id)
);
