-- Headline figures of the report month next to the month before and the same month a
-- year earlier. One row. Net sales, units, COGS and gross profit are the order lines
-- booked in the month (before returns); returns and net revenue after returns are
-- kpi_sales_monthly's (returns booked in the month they came back), the figure the KPI
-- tables and target attainment use.
WITH m AS (
    SELECT
        month,
        sum(net_revenue) AS net_revenue,
        sum(units) AS units,
        sum(cogs) AS cogs,
        sum(gross_profit) AS gross_profit,
        count(DISTINCT order_id) AS orders,
        count(DISTINCT customer_id) AS customers
    FROM fct_order_lines
    WHERE month IN ($period_start, $prev_start, $year_ago_start)
    GROUP BY month
),
k AS (
    SELECT month, sum(returns_revenue) AS returns_revenue, sum(net_revenue) AS net_revenue
    FROM kpi_sales_monthly
    WHERE month IN ($period_start, $prev_start)
    GROUP BY month
),
kcur AS (SELECT * FROM k WHERE month = $period_start),
kprev AS (SELECT * FROM k WHERE month = $prev_start),
cur AS (SELECT * FROM m WHERE month = $period_start),
prev AS (SELECT * FROM m WHERE month = $prev_start),
ya AS (SELECT * FROM m WHERE month = $year_ago_start)
SELECT
    cur.net_revenue, cur.units, cur.cogs, cur.gross_profit, cur.orders, cur.customers,
    cur.gross_profit / nullif(cur.net_revenue, 0) AS gm_pct,
    cur.net_revenue / nullif(cur.orders, 0) AS avg_order_value,
    prev.net_revenue AS prev_net_revenue, prev.units AS prev_units,
    prev.gross_profit AS prev_gross_profit, prev.orders AS prev_orders,
    cur.net_revenue / nullif(prev.net_revenue, 0) - 1 AS mom_change,
    ya.net_revenue AS year_ago_net_revenue,
    cur.net_revenue / nullif(ya.net_revenue, 0) - 1 AS yoy_change,
    kcur.returns_revenue, kprev.returns_revenue AS prev_returns_revenue,
    kcur.net_revenue AS net_revenue_after_returns,
    kprev.net_revenue AS prev_net_revenue_after_returns,
    kcur.net_revenue / nullif(kprev.net_revenue, 0) - 1 AS mom_change_after_returns
FROM (SELECT 1) AS one
LEFT JOIN cur ON true
LEFT JOIN prev ON true
LEFT JOIN ya ON true
LEFT JOIN kcur ON true
LEFT JOIN kprev ON true
ORDER BY 1
