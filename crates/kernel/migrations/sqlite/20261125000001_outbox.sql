-- Domain event outbox: written in the same transaction as the change it describes.
CREATE TABLE outbox_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB    NOT NULL UNIQUE,
    org_id       BLOB    NOT NULL,
    event_type   TEXT    NOT NULL,
    record_type  TEXT    NOT NULL,
    record_id    BLOB    NOT NULL,
    actor        TEXT,
    occurred_at  TEXT    NOT NULL,
    data         TEXT    NOT NULL
);
CREATE INDEX outbox_events_org ON outbox_events (org_id, seq);

-- One row per (subscriber, event) delivered; what is missing is still to deliver.
CREATE TABLE outbox_deliveries (
    subscriber   TEXT    NOT NULL,
    event_seq    INTEGER NOT NULL REFERENCES outbox_events (seq) ON DELETE CASCADE,
    delivered_at TEXT    NOT NULL,
    PRIMARY KEY (subscriber, event_seq)
);
