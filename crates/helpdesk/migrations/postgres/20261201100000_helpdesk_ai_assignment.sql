-- Helpdesk AI insights and assignment rules (issue 5, items 5 and 6).

-- The latest AI insight of each ticket (JSON: source, predicted_priority,
-- escalation_risk, urgency_keywords, ai_insights, recommended_actions, computed_at) and
-- the facts the escalation label of a closed ticket is made of: the priority it was
-- opened with (so a later raise is known), whether it was reopened.
CREATE TABLE ticket_insights (
    org_id                 UUID NOT NULL,
    ticket_id              UUID NOT NULL,
    initial_priority_rank  INTEGER NOT NULL,
    priority_raised        BOOLEAN NOT NULL,
    reopened               BOOLEAN NOT NULL,
    last_status            TEXT NOT NULL,
    insight                TEXT NOT NULL,
    computed_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, ticket_id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);

-- Classifiers trained on an organisation's closed tickets: kind `priority` or
-- `escalation`; the model is insight::text_classifier::NaiveBayes as JSON, `model_id` a
-- fresh UUIDv7 per training run (the in-process cache of parsed models is keyed by it).
CREATE TABLE helpdesk_models (
    org_id      UUID NOT NULL,
    kind        TEXT NOT NULL,
    model_id    UUID NOT NULL,
    model       TEXT NOT NULL,
    trained_on  BIGINT NOT NULL,
    classes     TEXT NOT NULL,
    accuracy    DOUBLE PRECISION,
    macro_f1    DOUBLE PRECISION,
    trained_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, kind)
);

-- Assignment: per team a method (manual, round_robin, least_open), optionally by skill;
-- the round-robin counter lives on the team row and is bumped in the ticket's
-- transaction, so concurrent creations queue on it.
ALTER TABLE helpdesk_teams ADD COLUMN assignment_method TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE helpdesk_teams ADD COLUMN assign_by_skill BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE helpdesk_teams ADD COLUMN assignment_counter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE helpdesk_team_members ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
