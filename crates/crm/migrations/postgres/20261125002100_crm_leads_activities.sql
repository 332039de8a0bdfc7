-- Leads: New -> Contacted -> Qualified / Unqualified -> Converted (into contact, company, deal).
CREATE TABLE leads (
    org_id        UUID NOT NULL,
    id            UUID NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    company_name  TEXT,
    email_enc     TEXT,
    email_index   TEXT,
    phone_enc     TEXT,
    source        TEXT,
    status        TEXT NOT NULL,
    owner_id      UUID,
    contact_id    UUID,
    company_id    UUID,
    deal_id       UUID,
    converted_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX leads_status ON leads (org_id, status, id);

-- Calls, emails, meetings, notes and tasks, attached to any CRM record.
CREATE TABLE activities (
    org_id       UUID NOT NULL,
    id           UUID NOT NULL,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT,
    due_at       TIMESTAMPTZ,
    done         BOOLEAN NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    UUID NOT NULL,
    owner_id     UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX activities_record ON activities (org_id, record_type, record_id, created_at);
