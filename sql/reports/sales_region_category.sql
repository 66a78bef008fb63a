-- The report period to date: every customer region x product category cell, after
-- returns as in the KPI tables; orders are the distinct orders booked with a line in the
-- cell.
WITH k AS (
    SELECT
        region, category,
        sum(sales_revenue) AS net_sales,
        sum(returns_revenue) AS returns_revenue,
        sum(net_revenue) AS net_revenue,
        sum(net_units) AS net_units,
        sum(cogs) AS cogs,
        sum(gross_profit) AS gross_profit
    FROM kpi_sales_daily
    WHERE date_day BETWEEN $period_start AND $period_to
    GROUP BY region, category
),
o AS (
    SELECT region, category, count(DISTINCT order_id) AS orders
    FROM fct_order_lines
    WHERE order_date BETWEEN $period_start AND $period_to
    GROUP BY region, category
)
SELECT
    region, category, net_sales, returns_revenue, net_revenue, net_units, cogs,
    gross_profit, CASE WHEN net_revenue > 0 THEN gross_profit / net_revenue END AS gm_pct,
    coalesce(o.orders, 0) AS orders
FROM k
LEFT JOIN o USING (region, category)
ORDER BY region, category
