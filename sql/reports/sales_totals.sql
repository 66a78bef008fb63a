-- Headline figures of the report period (a week, a month or a quarter) to date, next to
-- the same days of the period before and of the same period a year earlier. One row.
-- As in the KPI tables (kpi_sales_daily): sales are booked on the order date, returns on
-- the date they came back; net revenue = net sales - returns; units, COGS and gross
-- profit are net of returns too. Orders and customers: distinct orders booked. A change
-- or margin over a base that is not positive is NULL (shown as "–").
WITH days AS (
    SELECT
        CASE
            WHEN date_day BETWEEN $period_start AND $period_to THEN 'cur'
            WHEN date_day BETWEEN $prev_start AND $prev_to THEN 'prev'
            ELSE 'ya'
        END AS p,
        sales_revenue, returns_revenue, net_revenue, net_units, cogs, gross_profit
    FROM kpi_sales_daily
    WHERE date_day BETWEEN $period_start AND $period_to
        OR date_day BETWEEN $prev_start AND $prev_to
        OR date_day BETWEEN $year_ago_start AND $year_ago_to
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
            WHEN order_date BETWEEN $period_start AND $period_to THEN 'cur'
            WHEN order_date BETWEEN $prev_start AND $prev_to THEN 'prev'
            ELSE 'ya'
        END AS p,
        count(DISTINCT order_id) AS orders,
        count(DISTINCT customer_id) AS customers
    FROM fct_order_lines
    WHERE order_date BETWEEN $period_start AND $period_to
        OR order_date BETWEEN $prev_start AND $prev_to
        OR order_date BETWEEN $year_ago_start AND $year_ago_to
    GROUP BY p
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
