-- The facts' index by (outlet, SKU, day) served the gap recommendations and the
-- predictions' per-store reads; both now read rollups (sales_outlet_daily_rollup,
-- sales_outlet_purchase_days, sales_outlet_sku_monthly) and look facts up only by the
-- primary key (day, outlet). Dropping it saves every import a second copy of the fact
-- keys (753 MB next to a 986 MB table on PostgreSQL at 10.2M facts).
DROP INDEX sales_facts_by_outlet;
