-- Report month by product category, with the previous month for comparison.
SELECT
    category,
    sum(net_revenue) FILTER (WHERE month = $period_start) AS net_revenue,
    sum(units) FILTER (WHERE month = $period_start) AS units,
    sum(gross_profit) FILTER (WHERE month = $period_start) AS gross_profit,
    sum(gross_profit) FILTER (WHERE month = $period_start)
        / nullif(sum(net_revenue) FILTER (WHERE month = $period_start), 0) AS gm_pct,
    sum(net_revenue) FILTER (WHERE month = $prev_start) AS prev_net_revenue,
    sum(net_revenue) FILTER (WHERE month = $period_start)
        / nullif(sum(net_revenue) FILTER (WHERE month = $prev_start), 0) - 1 AS mom_change
FROM mart_monthly_sales
WHERE month IN ($period_start, $prev_start)
GROUP BY category
ORDER BY net_revenue DESC NULLS LAST, category
