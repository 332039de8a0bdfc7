-- Helpdesk: working calendars, SLA policies, teams, tickets with their SLA clocks,
-- conversations, attachments, and the SLA events already emitted (once each).

CREATE TABLE helpdesk_calendars (
    org_id        BLOB NOT NULL,
    id            BLOB NOT NULL,
    name          TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    weekly_hours  TEXT NOT NULL,
    holidays      TEXT NOT NULL,
    is_default    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
-- One default calendar per organisation.
CREATE UNIQUE INDEX helpdesk_calendars_default ON helpdesk_calendars (org_id) WHERE is_default = 1;

CREATE TABLE sla_policies (
    org_id               BLOB NOT NULL,
    id                   BLOB NOT NULL,
    name                 TEXT NOT NULL,
    calendar_id          BLOB NOT NULL,
    targets              TEXT NOT NULL,
    type_multipliers     TEXT NOT NULL,
    at_risk_percent      INTEGER NOT NULL,
    at_risk_min_minutes  INTEGER NOT NULL,
    is_default           INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES helpdesk_calendars (org_id, id)
);
CREATE UNIQUE INDEX sla_policies_default ON sla_policies (org_id) WHERE is_default = 1;

-- Support teams (identity has no teams yet). The tickets of a restricted team are seen
-- only by its members and by holders of tickets:manage.
CREATE TABLE helpdesk_teams (
    org_id      BLOB NOT NULL,
    id          BLOB NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    restricted  INTEGER NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE helpdesk_team_members (
    org_id    BLOB NOT NULL,
    team_id   BLOB NOT NULL,
    user_id   BLOB NOT NULL,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES helpdesk_teams (org_id, id)
);

-- Per organisation and year: the last ticket number handed out (TKT-2026-00042).
CREATE TABLE ticket_counters (
    org_id       BLOB NOT NULL,
    year         INTEGER NOT NULL,
    last_number  BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE tickets (
    org_id                  BLOB NOT NULL,
    id                      BLOB NOT NULL,
    number                  TEXT NOT NULL,
    subject                 TEXT NOT NULL,
    description             TEXT NOT NULL,
    ticket_type             TEXT NOT NULL,
    priority                TEXT NOT NULL,
    priority_rank           INTEGER NOT NULL,
    status                  TEXT NOT NULL,
    company_id              BLOB,
    contact_id              BLOB,
    assignee_id             BLOB,
    team_id                 BLOB,
    tags                    TEXT NOT NULL,
    equipment_ref           TEXT,
    policy_id               BLOB NOT NULL,
    calendar_id             BLOB NOT NULL,
    response_target_secs    BIGINT NOT NULL,
    resolution_target_secs  BIGINT NOT NULL,
    at_risk_percent         INTEGER NOT NULL,
    at_risk_min_minutes     INTEGER NOT NULL,
    sla_pauses              TEXT NOT NULL,
    sla_paused              INTEGER NOT NULL,
    first_response_at       TEXT,
    resolved_at             TEXT,
    closed_at               TEXT,
    response_due_at         TEXT,
    resolution_due_at       TEXT,
    response_risk_at        TEXT,
    resolution_risk_at      TEXT,
    sla_due_at              TEXT NOT NULL,
    sentiment_compound      REAL,
    sentiment_label         TEXT,
    sentiment_trend         REAL,
    created_by              TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, policy_id) REFERENCES sla_policies (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES helpdesk_teams (org_id, id)
);
CREATE UNIQUE INDEX tickets_number ON tickets (org_id, number);
-- The inbox: by SLA urgency, optionally per assignee or status.
CREATE INDEX tickets_urgency ON tickets (org_id, sla_due_at, id);
CREATE INDEX tickets_assignee ON tickets (org_id, assignee_id, sla_due_at, id);
CREATE INDEX tickets_status ON tickets (org_id, status, sla_due_at, id);
CREATE INDEX tickets_company ON tickets (org_id, company_id);
-- The SLA scan looks at open tickets whose risk or due instants have passed.
CREATE INDEX tickets_sla_scan ON tickets (org_id, sla_paused, response_risk_at, resolution_risk_at);

CREATE TABLE ticket_messages (
    org_id              BLOB NOT NULL,
    id                  BLOB NOT NULL,
    ticket_id           BLOB NOT NULL,
    kind                TEXT NOT NULL,
    author_id           BLOB,
    author              TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    sentiment_neg       REAL,
    sentiment_neu       REAL,
    sentiment_pos       REAL,
    sentiment_compound  REAL,
    sentiment_label     TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (org_id, ticket_id, created_at, id);

-- Attachment metadata; the bytes live in the attachment store (local disk by default).
CREATE TABLE ticket_attachments (
    org_id        BLOB NOT NULL,
    id            BLOB NOT NULL,
    ticket_id     BLOB NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    storage_key   TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (org_id, ticket_id, created_at, id);

-- SLA events already emitted: the key makes each fire once per ticket, target and kind.
CREATE TABLE ticket_sla_events (
    org_id       BLOB NOT NULL,
    ticket_id    BLOB NOT NULL,
    target       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, ticket_id, target, kind),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
