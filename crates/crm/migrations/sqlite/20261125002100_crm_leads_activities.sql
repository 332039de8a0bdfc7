-- Leads: New -> Contacted -> Qualified / Unqualified -> Converted (into contact, company, deal).
CREATE TABLE leads (
    org_id        BLOB NOT NULL,
    id            BLOB NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    company_name  TEXT,
    email_enc     TEXT,
    email_index   TEXT,
    phone_enc     TEXT,
    source        TEXT,
    status        TEXT NOT NULL,
    owner_id      BLOB,
    contact_id    BLOB,
    company_id    BLOB,
    deal_id       BLOB,
    converted_at  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX leads_status ON leads (org_id, status, id);

-- Calls, emails, meetings, notes and tasks, attached to any CRM record.
CREATE TABLE activities (
    org_id       BLOB NOT NULL,
    id           BLOB NOT NULL,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT,
    due_at       TEXT,
    done         INTEGER NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    BLOB NOT NULL,
    owner_id     BLOB,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX activities_record ON activities (org_id, record_type, record_id, created_at);
