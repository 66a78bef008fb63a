-- The twelve months up to the report month.
SELECT
    month,
    strftime(month, '%Y-%m') AS label,
    sum(net_revenue) AS net_revenue,
    sum(gross_profit) AS gross_profit,
    sum(units) AS units
FROM mart_monthly_sales
WHERE month > CAST($period_start AS DATE) - INTERVAL 12 MONTH AND month <= $period_start
GROUP BY month
ORDER BY month
