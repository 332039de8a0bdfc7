-- Helpdesk: working calendars, SLA policies, teams, tickets with their SLA clocks,
-- conversations, attachments, and the SLA events already emitted (once each).

CREATE TABLE helpdesk_calendars (
    org_id        UUID NOT NULL,
    id            UUID NOT NULL,
    name          TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    weekly_hours  TEXT NOT NULL,
    holidays      TEXT NOT NULL,
    is_default    BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);
-- One default calendar per organisation.
CREATE UNIQUE INDEX helpdesk_calendars_default ON helpdesk_calendars (org_id) WHERE is_default;

CREATE TABLE sla_policies (
    org_id               UUID NOT NULL,
    id                   UUID NOT NULL,
    name                 TEXT NOT NULL,
    calendar_id          UUID NOT NULL,
    targets              TEXT NOT NULL,
    type_multipliers     TEXT NOT NULL,
    at_risk_percent      INTEGER NOT NULL,
    at_risk_min_minutes  INTEGER NOT NULL,
    is_default           BOOLEAN NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, calendar_id) REFERENCES helpdesk_calendars (org_id, id)
);
CREATE UNIQUE INDEX sla_policies_default ON sla_policies (org_id) WHERE is_default;

-- Support teams (identity has no teams yet). The tickets of a restricted team are seen
-- only by its members and by holders of tickets:manage.
CREATE TABLE helpdesk_teams (
    org_id      UUID NOT NULL,
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    restricted  BOOLEAN NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE helpdesk_team_members (
    org_id    UUID NOT NULL,
    team_id   UUID NOT NULL,
    user_id   UUID NOT NULL,
    added_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES helpdesk_teams (org_id, id)
);

-- Per organisation and year: the last ticket number handed out (TKT-2026-00042).
CREATE TABLE ticket_counters (
    org_id       UUID NOT NULL,
    year         INTEGER NOT NULL,
    last_number  BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE tickets (
    org_id                  UUID NOT NULL,
    id                      UUID NOT NULL,
    number                  TEXT NOT NULL,
    subject                 TEXT NOT NULL,
    description             TEXT NOT NULL,
    ticket_type             TEXT NOT NULL,
    priority                TEXT NOT NULL,
    priority_rank           INTEGER NOT NULL,
    status                  TEXT NOT NULL,
    company_id              UUID,
    contact_id              UUID,
    assignee_id             UUID,
    team_id                 UUID,
    tags                    TEXT NOT NULL,
    equipment_ref           TEXT,
    policy_id               UUID NOT NULL,
    calendar_id             UUID NOT NULL,
    response_target_secs    BIGINT NOT NULL,
    resolution_target_secs  BIGINT NOT NULL,
    at_risk_percent         INTEGER NOT NULL,
    at_risk_min_minutes     INTEGER NOT NULL,
    sla_pauses              TEXT NOT NULL,
    sla_paused              BOOLEAN NOT NULL,
    first_response_at       TIMESTAMPTZ,
    resolved_at             TIMESTAMPTZ,
    closed_at               TIMESTAMPTZ,
    response_due_at         TIMESTAMPTZ,
    resolution_due_at       TIMESTAMPTZ,
    response_risk_at        TIMESTAMPTZ,
    resolution_risk_at      TIMESTAMPTZ,
    sla_due_at              TIMESTAMPTZ NOT NULL,
    sentiment_compound      DOUBLE PRECISION,
    sentiment_label         TEXT,
    sentiment_trend         DOUBLE PRECISION,
    created_by              TEXT NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
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
    org_id              UUID NOT NULL,
    id                  UUID NOT NULL,
    ticket_id           UUID NOT NULL,
    kind                TEXT NOT NULL,
    author_id           UUID,
    author              TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    sentiment_neg       DOUBLE PRECISION,
    sentiment_neu       DOUBLE PRECISION,
    sentiment_pos       DOUBLE PRECISION,
    sentiment_compound  DOUBLE PRECISION,
    sentiment_label     TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (org_id, ticket_id, created_at, id);

-- Attachment metadata; the bytes live in the attachment store (local disk by default).
CREATE TABLE ticket_attachments (
    org_id        UUID NOT NULL,
    id            UUID NOT NULL,
    ticket_id     UUID NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    storage_key   TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (org_id, ticket_id, created_at, id);

-- SLA events already emitted: the key makes each fire once per ticket, target and kind.
CREATE TABLE ticket_sla_events (
    org_id       UUID NOT NULL,
    ticket_id    UUID NOT NULL,
    target       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, ticket_id, target, kind),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
