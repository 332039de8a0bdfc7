-- Saved views / segments: a named filter over one kind of record, with live membership.
CREATE TABLE segments (
    org_id      BLOB NOT NULL,
    id          BLOB NOT NULL,
    name        TEXT NOT NULL,
    object      TEXT NOT NULL,
    match_any   INTEGER NOT NULL,
    filters     TEXT NOT NULL,
    created_by  BLOB,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);
