-- Helpdesk inbox at scale (bench/helpdesk.py, 200,000 tickets): the views that show open
-- work only (unassigned, at_risk, breached) walk open tickets alone, in SLA-urgency order,
-- and test their conditions on the index entry (no table lookup per rejected ticket).
-- Partial: the planner uses it when the statement says `status NOT IN ('Resolved',
-- 'Closed')`, as those views do.
CREATE INDEX tickets_open_urgency ON tickets (org_id, sla_due_at, id, assignee_id, first_response_at,
    response_due_at, response_risk_at, resolution_due_at, resolution_risk_at)
    WHERE status NOT IN ('Resolved', 'Closed');
-- Lists filtered by team (the team's queue), in SLA-urgency order.
CREATE INDEX tickets_team_urgency ON tickets (org_id, team_id, sla_due_at, id);
