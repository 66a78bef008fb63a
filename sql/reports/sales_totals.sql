-- Headline figures of the report period (a week, a month or a quarter) to date, next to
-- the same days of the period before and of the same period a year earlier. One row.
-- As in the KPI tables (kpi_sales_daily): sales are booked on the order date, returns on
-- the date they came back; net revenue = net sales - returns; units, COGS and gross
-- profit are net of returns too. Orders and customers: distinct orders booked. A change
-- or margin over a base that is not positive is NULL (shown as "–").
WITH ranges (p, first_day, last_day) AS (
    VALUES
        ('cur', CAST($period_start AS DATE), CAST($period_to AS DATE)),
        ('prev', CAST($prev_start AS DATE), CAST($prev_to AS DATE)),
        ('ya', CAST($year_ago_start AS DATE), CAST($year_ago_to AS DATE))
),
sums AS (
    -- Every window has its row: one without sales shows 0.00, not a blank.
    SELECT
        r.p,
        coalesce(sum(k.sales_revenue), 0) AS net_sales,
        coalesce(sum(k.returns_revenue), 0) AS returns_revenue,
        coalesce(sum(k.net_revenue), 0) AS net_revenue,
        coalesce(sum(k.net_units), 0) AS net_units,
        coalesce(sum(k.cogs), 0) AS cogs,
        coalesce(sum(k.gross_profit), 0) AS gross_profit
    FROM ranges AS r
    LEFT JOIN kpi_sales_daily AS k ON k.date_day BETWEEN r.first_day AND r.last_day
    GROUP BY r.p
),
booked AS (
    SELECT
        r.p,
        count(DISTINCT f.order_id) AS orders,
        count(DISTINCT f.customer_id) AS customers
    FROM ranges AS r
    JOIN fct_order_lines AS f ON f.order_date BETWEEN r.first_day AND r.last_day
    GROUP BY r.p
),
cur AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'cur'),
prev AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'prev'),
ya AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'ya')
SELECT
    cur.net_sales, cur.returns_revenue, cur.net_revenue, cur.net_units, cur.cogs,
    cur.gross_profit, coalesce(cur.orders, 0) AS orders, coalesce(cur.customers, 0) AS customers,
    CASE WHEN cur.net_revenue > 0 THEN cur.gross_profit / cur.net_revenue END AS gm_pct,
    cur.net_sales / nullif(cur.orders, 0) AS avg_order_value,
    prev.net_sales AS prev_net_sales, prev.returns_revenue AS prev_returns_revenue,
    prev.net_revenue AS prev_net_revenue, prev.net_units AS prev_net_units,
    prev.cogs AS prev_cogs, prev.gross_profit AS prev_gross_profit,
    coalesce(prev.orders, 0) AS prev_orders,
    CASE WHEN prev.net_revenue > 0 THEN prev.gross_profit / prev.net_revenue END AS prev_gm_pct,
    CASE WHEN prev.net_sales > 0 THEN cur.net_sales / prev.net_sales - 1 END AS net_sales_change,
    CASE WHEN prev.net_revenue > 0 THEN cur.net_revenue / prev.net_revenue - 1 END
        AS net_revenue_change,
    CASE WHEN prev.gross_profit > 0 THEN cur.gross_profit / prev.gross_profit - 1 END
        AS gross_profit_change,
    ya.net_revenue AS year_ago_net_revenue,
    CASE WHEN ya.net_revenue > 0 THEN cur.net_revenue / ya.net_revenue - 1 END AS yoy_change
FROM (SELECT 1) AS one
LEFT JOIN cur ON true
LEFT JOIN prev ON true
LEFT JOIN ya ON true
ORDER BY 1
