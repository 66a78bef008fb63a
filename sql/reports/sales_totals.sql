-- Headline figures of the report period (a week, a month or a quarter) next to the
-- period before and the same period a year earlier. One row. As in the KPI tables
-- (kpi_sales_daily): sales are booked on the order date, returns on the date they came
-- back; net revenue = net sales - returns; units, COGS and gross profit are net of
-- returns too. Orders and customers: distinct orders booked in the period.
WITH days AS (
    SELECT
        CASE
            WHEN date_day BETWEEN $period_start AND $period_end THEN 'cur'
            WHEN date_day BETWEEN $prev_start AND $prev_end THEN 'prev'
            ELSE 'ya'
        END AS p,
        sales_revenue, returns_revenue, net_revenue, net_units, cogs, gross_profit
    FROM kpi_sales_daily
    WHERE date_day BETWEEN $period_start AND $period_end
        OR date_day BETWEEN $prev_start AND $prev_end
        OR date_day BETWEEN $year_ago_start AND $year_ago_end
),
sums AS (
    SELECT
        p,
        sum(sales_revenue) AS net_sales,
        sum(returns_revenue) AS returns_revenue,
        sum(net_revenue) AS net_revenue,
        sum(net_units) AS net_units,
        sum(cogs) AS cogs,
        sum(gross_profit) AS gross_profit
    FROM days
    GROUP BY p
),
booked AS (
    SELECT
        CASE
            WHEN order_date BETWEEN $period_start AND $period_end THEN 'cur'
            WHEN order_date BETWEEN $prev_start AND $prev_end THEN 'prev'
            ELSE 'ya'
        END AS p,
        count(DISTINCT order_id) AS orders,
        count(DISTINCT customer_id) AS customers
    FROM fct_order_lines
    WHERE order_date BETWEEN $period_start AND $period_end
        OR order_date BETWEEN $prev_start AND $prev_end
        OR order_date BETWEEN $year_ago_start AND $year_ago_end
    GROUP BY p
),
cur AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'cur'),
prev AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'prev'),
ya AS (SELECT * FROM sums LEFT JOIN booked USING (p) WHERE p = 'ya')
SELECT
    cur.net_sales, cur.returns_revenue, cur.net_revenue, cur.net_units, cur.cogs,
    cur.gross_profit, cur.orders, cur.customers,
    cur.gross_profit / nullif(cur.net_revenue, 0) AS gm_pct,
    cur.net_sales / nullif(cur.orders, 0) AS avg_order_value,
    prev.net_sales AS prev_net_sales, prev.returns_revenue AS prev_returns_revenue,
    prev.net_revenue AS prev_net_revenue, prev.net_units AS prev_net_units,
    prev.cogs AS prev_cogs, prev.gross_profit AS prev_gross_profit,
    prev.orders AS prev_orders,
    prev.gross_profit / nullif(prev.net_revenue, 0) AS prev_gm_pct,
    cur.net_sales / nullif(prev.net_sales, 0) - 1 AS net_sales_change,
    cur.net_revenue / nullif(prev.net_revenue, 0) - 1 AS net_revenue_change,
    cur.gross_profit / nullif(prev.gross_profit, 0) - 1 AS gross_profit_change,
    ya.net_revenue AS year_ago_net_revenue,
    cur.net_revenue / nullif(ya.net_revenue, 0) - 1 AS yoy_change
FROM (SELECT 1) AS one
LEFT JOIN cur ON true
LEFT JOIN prev ON true
LEFT JOIN ya ON true
ORDER BY 1
