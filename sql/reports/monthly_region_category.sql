-- Report month: every region x category cell.
SELECT region, category, net_revenue, units, cogs, gross_profit, gm_pct, orders
FROM mart_monthly_sales
WHERE month = $period_start
ORDER BY region, category
