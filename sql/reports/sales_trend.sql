-- The twelve months up to the one the report period ends in (the last one may be
-- partial for a week), after returns as in the KPI tables.
SELECT
    month,
    strftime(month, '%Y-%m') AS label,
    sum(net_revenue) AS net_revenue,
    sum(gross_profit) AS gross_profit,
    sum(net_units) AS net_units
FROM kpi_sales_monthly
WHERE month > CAST(date_trunc('month', CAST($period_end AS DATE)) AS DATE) - INTERVAL 12 MONTH
    AND month <= CAST($period_end AS DATE)
GROUP BY month
ORDER BY month
