-- materialized: table
-- description: Inventory KPIs per period (period_type month, quarter, year; the as-of period to date) x level (sku, category, total; all warehouses) x member, from fct_inventory_daily. avg_on_hand_units and avg_inventory_cost = mean over the period's days of the end-of-day stock (units; at the day's standard cost); cogs = COGS of the units shipped in the period (standard cost of their order date); turnover = cogs / avg_inventory_cost (NULL when the average inventory is 0); days_of_inventory = avg_inventory_cost / cogs x days (NULL without COGS); days_of_inventory_units = avg_on_hand_units / (units_shipped / days); stockout_rate = SKU-warehouse-days ending at 0 / SKU-warehouse-days; sell_through = units_shipped / (on hand at the period start + units_received); lost_units_est = stock-out days x units shipped per in-stock day (per SKU and warehouse), lost_revenue_est = lost_units_est x net revenue per shipped unit. Ratios DECIMAL(18,4).
-- order_by: period_type, period_start, level, member
WITH shipped_value AS (
    SELECT sku, warehouse, sum(net_revenue) AS net_revenue, sum(units) AS units
    FROM {{ ref("fct_shipments") }}
    GROUP BY ALL
),
daily AS (
    SELECT d.*, p.category FROM {{ ref("fct_inventory_daily") }} AS d
    LEFT JOIN {{ ref("products") }} AS p ON p.sku = d.sku
),
periods AS (
    SELECT 'month' AS period_type, CAST(date_trunc('month', date_day) AS DATE) AS period_start, * FROM daily
    UNION ALL
    SELECT 'quarter', CAST(date_trunc('quarter', date_day) AS DATE), * FROM daily
    UNION ALL
    SELECT 'year', CAST(date_trunc('year', date_day) AS DATE), * FROM daily
),
-- per SKU and warehouse first (stock-outs and lost sales are per location)
per_location AS (
    SELECT
        period_type, period_start, sku, warehouse, any_value(category) AS category,
        count(*) AS days,
        sum(on_hand) AS on_hand_days,
        sum(inventory_cost) AS cost_days,
        sum(shipped_units) AS units_shipped,
        sum(shipped_cogs) AS cogs,
        sum(received_units) AS units_received,
        arg_min(on_hand_start, date_day) AS opening_on_hand,
        arg_max(on_hand, date_day) AS closing_on_hand,
        count(*) FILTER (WHERE is_stockout) AS stockout_days,
        sum(shipped_units) FILTER (WHERE NOT is_stockout) AS units_shipped_in_stock
    FROM periods
    GROUP BY ALL
),
located AS (
    SELECT
        l.*,
        CASE WHEN l.days > l.stockout_days
            THEN l.stockout_days * coalesce(l.units_shipped_in_stock, 0) / (l.days - l.stockout_days) END AS lost_units,
        CASE WHEN v.units > 0 THEN v.net_revenue / v.units END AS revenue_per_unit
    FROM per_location AS l
    LEFT JOIN shipped_value AS v ON v.sku = l.sku AND v.warehouse = l.warehouse
),
levels AS (
    SELECT 'sku' AS level, sku AS member, * FROM located
    UNION ALL
    SELECT 'category', coalesce(category, 'Unknown'), * FROM located
    UNION ALL
    SELECT 'total', 'All', * FROM located
),
agg AS (
    SELECT
        period_type, period_start, level, member,
        max(days) AS days,
        sum(on_hand_days) / max(days) AS avg_on_hand_units,
        sum(cost_days) / max(days) AS avg_inventory_cost,
        sum(units_shipped) AS units_shipped,
        sum(cogs) AS cogs,
        sum(units_received) AS units_received,
        sum(opening_on_hand) AS opening_on_hand,
        sum(closing_on_hand) AS closing_on_hand,
        sum(stockout_days) AS stockout_days,
        sum(days) AS location_days,
        sum(lost_units) AS lost_units,
        sum(lost_units * revenue_per_unit) AS lost_revenue
    FROM levels
    GROUP BY ALL
)
SELECT
    period_type, period_start, CAST(year(period_start) AS INTEGER) AS year, level, member,
    CAST(days AS INTEGER) AS days,
    CAST(avg_on_hand_units AS DECIMAL(18, 2)) AS avg_on_hand_units,
    CAST(avg_inventory_cost AS DECIMAL(18, 2)) AS avg_inventory_cost,
    CAST(units_shipped AS BIGINT) AS units_shipped,
    CAST(cogs AS DECIMAL(18, 2)) AS cogs,
    CAST(units_received AS BIGINT) AS units_received,
    CAST(opening_on_hand AS BIGINT) AS opening_on_hand,
    CAST(closing_on_hand AS BIGINT) AS closing_on_hand,
    CAST(CASE WHEN avg_inventory_cost > 0 THEN cogs / avg_inventory_cost END AS DECIMAL(18, 4)) AS turnover,
    CAST(CASE WHEN cogs > 0 THEN avg_inventory_cost / cogs * days END AS DECIMAL(18, 2)) AS days_of_inventory,
    CAST(CASE WHEN units_shipped > 0 THEN avg_on_hand_units / (units_shipped / days) END AS DECIMAL(18, 2))
        AS days_of_inventory_units,
    CAST(stockout_days AS BIGINT) AS stockout_days,
    CAST(location_days AS BIGINT) AS location_days,
    CAST(stockout_days / location_days AS DECIMAL(18, 4)) AS stockout_rate,
    CAST(CASE WHEN opening_on_hand + units_received > 0 THEN units_shipped / (opening_on_hand + units_received) END
        AS DECIMAL(18, 4)) AS sell_through,
    CAST(coalesce(lost_units, 0) AS DECIMAL(18, 2)) AS lost_units_est,
    CAST(coalesce(lost_revenue, 0) AS DECIMAL(18, 2)) AS lost_revenue_est
FROM agg
