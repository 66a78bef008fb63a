-- materialized: table
-- description: Inventory KPIs per period (period_type month, quarter, year; the as-of period to date) x level (sku, category, total; all warehouses) x member, from fct_stock_levels. avg_on_hand_units and avg_inventory_cost = mean over the period's days of the end-of-day stock (units; at the day's standard cost); cogs = COGS of the units shipped in the period (standard cost of their order date); turnover = cogs / avg_inventory_cost (NULL when the average inventory is 0); days_of_inventory = avg_inventory_cost / cogs x days (NULL without COGS); days_of_inventory_units = avg_on_hand_units / (units_shipped / days); stockout_rate = SKU-warehouse-days ending at 0 / SKU-warehouse-days; sell_through = units_shipped / (on hand at the period start + units_received); lost_units_est = stock-out days x units shipped per in-stock day (per SKU and warehouse), lost_revenue_est = lost_units_est x net revenue per shipped unit; is_top_seller marks the var.top_sellers (default 10) products on the most order lines (SKU rows). Ratios DECIMAL(18,4).
-- order_by: period_type, period_start, level, member
-- test: { unique: [period_type, period_start, level, member] }
-- partition_by: year
WITH shipped_value AS (
    SELECT sku, warehouse, sum(net_revenue) AS net_revenue, sum(units) AS units
    FROM {{ ref("fct_shipments") }}
    GROUP BY ALL
),
-- every stock interval cut at month ends
pieces AS (
    SELECT
        l.*,
        CAST(unnest(generate_series(date_trunc('month', l.valid_from), date_trunc('month', l.valid_to),
            INTERVAL 1 MONTH)) AS DATE) AS month
    FROM {{ ref("fct_stock_levels") }} AS l
),
monthly AS (
    SELECT
        month, sku, warehouse,
        sum(on_hand * (least(valid_to, month_end) - greatest(valid_from, month) + 1)) AS on_hand_days,
        sum(on_hand * standard_cost * (least(valid_to, month_end) - greatest(valid_from, month) + 1)) AS cost_days,
        sum(shipped_units) FILTER (WHERE valid_from >= month) AS units_shipped,
        sum(shipped_cogs) FILTER (WHERE valid_from >= month) AS cogs,
        sum(received_units) FILTER (WHERE valid_from >= month) AS units_received,
        sum(CASE WHEN valid_from = month THEN on_hand_start ELSE on_hand END) FILTER (WHERE valid_from <= month)
            AS opening_on_hand,
        sum(on_hand) FILTER (WHERE valid_to >= month_end) AS closing_on_hand,
        sum(least(valid_to, month_end) - greatest(valid_from, month) + 1) AS days_with_data,
        coalesce(sum(least(valid_to, month_end) - greatest(valid_from, month) + 1) FILTER (WHERE is_stockout), 0)
            AS stockout_days,
        coalesce(sum(shipped_units) FILTER (WHERE valid_from >= month AND NOT is_stockout), 0) AS units_shipped_in_stock
    FROM (
        SELECT *, least(CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}') AS month_end
        FROM pieces
        WHERE month <= DATE '{{ as_of }}'
    )
    GROUP BY month, sku, warehouse
),
periods AS (
    SELECT 'month' AS period_type, month AS period_start, * FROM monthly
    UNION ALL
    SELECT 'quarter', CAST(date_trunc('quarter', month) AS DATE), * FROM monthly
    UNION ALL
    SELECT 'year', CAST(date_trunc('year', month) AS DATE), * FROM monthly
),
-- per SKU and warehouse first (stock-outs and lost sales are per location)
per_location AS (
    SELECT
        period_type, period_start, sku, warehouse,
        CASE period_type
            WHEN 'month' THEN least(CAST(period_start + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}')
            WHEN 'quarter' THEN least(CAST(period_start + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}')
            ELSE least(CAST(period_start + INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}')
        END AS period_end,
        sum(on_hand_days) AS on_hand_days,
        sum(cost_days) AS cost_days,
        sum(units_shipped) AS units_shipped,
        sum(cogs) AS cogs,
        sum(units_received) AS units_received,
        arg_min(opening_on_hand, month) AS opening_on_hand,
        arg_max(closing_on_hand, month) AS closing_on_hand,
        sum(days_with_data) AS days_with_data,
        sum(stockout_days) AS stockout_days,
        sum(units_shipped_in_stock) AS units_shipped_in_stock
    FROM periods
    GROUP BY period_type, period_start, sku, warehouse
),
located AS (
    SELECT
        l.*,
        CAST(l.period_end - l.period_start + 1 AS INTEGER) AS days,
        p.category,
        CASE WHEN l.days_with_data > l.stockout_days
            THEN l.stockout_days * coalesce(l.units_shipped_in_stock, 0) / (l.days_with_data - l.stockout_days) END
            AS lost_units,
        CASE WHEN v.units > 0 THEN v.net_revenue / v.units END AS revenue_per_unit
    FROM per_location AS l
    LEFT JOIN shipped_value AS v ON v.sku = l.sku AND v.warehouse = l.warehouse
    LEFT JOIN {{ ref("products") }} AS p ON p.sku = l.sku
),
top_sellers AS (
    -- the var.top_sellers (default 10) products on the most order lines
    SELECT sku FROM {{ ref("fct_order_lines") }}
    GROUP BY sku
    QUALIFY row_number() OVER (ORDER BY count(*) DESC, sku) <= CAST({{ var.top_sellers | default(value="10") }} AS INTEGER)
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
        coalesce(sum(units_shipped), 0) AS units_shipped,
        coalesce(sum(cogs), 0) AS cogs,
        coalesce(sum(units_received), 0) AS units_received,
        coalesce(sum(opening_on_hand), 0) AS opening_on_hand,
        coalesce(sum(closing_on_hand), 0) AS closing_on_hand,
        sum(stockout_days) AS stockout_days,
        sum(days_with_data) AS location_days,
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
    CAST(stockout_days / NULLIF(location_days, 0) AS DECIMAL(18, 4)) AS stockout_rate,
    CAST(CASE WHEN opening_on_hand + units_received > 0 THEN units_shipped / (opening_on_hand + units_received) END
        AS DECIMAL(18, 4)) AS sell_through,
    CAST(coalesce(lost_units, 0) AS DECIMAL(18, 2)) AS lost_units_est,
    CAST(coalesce(lost_revenue, 0) AS DECIMAL(18, 2)) AS lost_revenue_est,
    CASE WHEN level = 'sku' THEN member IN (SELECT sku FROM top_sellers) END AS is_top_seller
FROM agg
