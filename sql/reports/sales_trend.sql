-- The twelve months up to the one the report period is in at the as-of date (that one
-- to date), after returns as in the KPI tables.
SELECT
    month,
    strftime(month, '%Y-%m') AS label,
    sum(net_revenue) AS net_revenue,
    sum(gross_profit) AS gross_profit,
    sum(net_units) AS net_units
FROM kpi_sales_daily
WHERE month > CAST(date_trunc('month', CAST($period_to AS DATE)) AS DATE) - INTERVAL 12 MONTH
    AND date_day <= $period_to
GROUP BY month
ORDER BY month
