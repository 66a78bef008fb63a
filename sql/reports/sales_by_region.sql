-- The report period to date by customer region, after returns as in the KPI tables, with
-- the same days of the period before (0 when nothing sold in one of them); a change or
-- margin over a base that is not positive is NULL.
WITH k AS (
    SELECT
        region,
        coalesce(sum(net_revenue) FILTER (WHERE date_day >= $period_start), 0) AS net_revenue,
        coalesce(sum(net_units) FILTER (WHERE date_day >= $period_start), 0) AS net_units,
        coalesce(sum(gross_profit) FILTER (WHERE date_day >= $period_start), 0) AS gross_profit,
        coalesce(sum(net_revenue) FILTER (WHERE date_day <= $prev_to), 0) AS prev_net_revenue
    FROM kpi_sales_daily
    WHERE date_day BETWEEN $prev_start AND $prev_to
        OR date_day BETWEEN $period_start AND $period_to
    GROUP BY region
)
SELECT
    region, net_revenue, net_units, gross_profit,
    CASE WHEN net_revenue > 0 THEN gross_profit / net_revenue END AS gm_pct,
    prev_net_revenue,
    CASE WHEN prev_net_revenue > 0 THEN net_revenue / prev_net_revenue - 1 END AS change
FROM k
ORDER BY net_revenue DESC NULLS LAST, region
