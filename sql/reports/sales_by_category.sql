-- The report period by product category, after returns as in the KPI tables, with
-- the period before for comparison.
SELECT
    category,
    sum(net_revenue) FILTER (WHERE date_day >= $period_start) AS net_revenue,
    sum(net_units) FILTER (WHERE date_day >= $period_start) AS net_units,
    sum(gross_profit) FILTER (WHERE date_day >= $period_start) AS gross_profit,
    sum(gross_profit) FILTER (WHERE date_day >= $period_start)
        / nullif(sum(net_revenue) FILTER (WHERE date_day >= $period_start), 0) AS gm_pct,
    sum(net_revenue) FILTER (WHERE date_day <= $prev_end) AS prev_net_revenue,
    sum(net_revenue) FILTER (WHERE date_day >= $period_start)
        / nullif(sum(net_revenue) FILTER (WHERE date_day <= $prev_end), 0) - 1 AS change
FROM kpi_sales_daily
WHERE date_day BETWEEN $prev_start AND $period_end
GROUP BY category
ORDER BY net_revenue DESC NULLS LAST, category
