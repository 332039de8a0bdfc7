-- Saved views / segments: a named filter over one kind of record, with live membership.
CREATE TABLE segments (
    org_id      UUID NOT NULL,
    id          UUID NOT NULL,
    name        TEXT NOT NULL,
    object      TEXT NOT NULL,
    match_any   BOOLEAN NOT NULL,
    filters     TEXT NOT NULL,
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);
