-- The board's per-stage totals read only this index (no table lookups): count, amount and
-- weighted amount per stage and currency over every deal of a pipeline.
CREATE INDEX deals_board_totals ON deals (org_id, pipeline_id, stage_id, currency, amount_scaled, probability);
