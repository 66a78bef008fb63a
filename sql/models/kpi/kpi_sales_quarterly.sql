-- materialized: table
-- description: Quantitative KPIs per calendar quarter (first day) x product category x customer region x customer segment x channel x rep (with the rep's team and region at the time of the sale): the sum of the quarter's months of kpi_sales_monthly (an order belongs to one month, so distinct orders add up). Same measures and formulas as kpi_sales_monthly: net_revenue = sales_revenue - returns_revenue (returns in the quarter of their date); gross_profit = net_revenue - cogs; gm_pct = gross_profit / net_revenue; discount_pct = discount_amount / gross_revenue; aov = sales_revenue / orders.
-- order_by: quarter, category, region, segment, channel, rep_id, rep_team
-- test: { unique: [quarter, category, region, segment, channel, rep_id, rep_team] }
-- partition_by: year
WITH agg AS (
    SELECT
        CAST(date_trunc('quarter', month) AS DATE) AS quarter,
        year, category, region, segment, channel, rep_id, rep_team, rep_region,
        CAST(sum(gross_revenue) AS DECIMAL(18, 2)) AS gross_revenue,
        CAST(sum(discount_amount) AS DECIMAL(18, 2)) AS discount_amount,
        CAST(sum(sales_revenue) AS DECIMAL(18, 2)) AS sales_revenue,
        CAST(sum(returns_revenue) AS DECIMAL(18, 2)) AS returns_revenue,
        CAST(sum(units_sold) AS BIGINT) AS units_sold,
        CAST(sum(units_returned) AS BIGINT) AS units_returned,
        CAST(sum(cogs) AS DECIMAL(18, 2)) AS cogs,
        CAST(sum(orders) AS BIGINT) AS orders
    FROM {{ ref("kpi_sales_monthly") }}
    GROUP BY ALL
)
SELECT
    quarter, year, category, region, segment, channel, rep_id, rep_team, rep_region,
    gross_revenue, discount_amount,
    CAST(CASE WHEN gross_revenue <> 0 THEN discount_amount / gross_revenue END AS DECIMAL(18, 4)) AS discount_pct,
    sales_revenue, returns_revenue,
    CAST(sales_revenue - returns_revenue AS DECIMAL(18, 2)) AS net_revenue,
    units_sold, units_returned, units_sold - units_returned AS net_units,
    cogs,
    CAST(sales_revenue - returns_revenue - cogs AS DECIMAL(18, 2)) AS gross_profit,
    CAST(CASE WHEN sales_revenue - returns_revenue <> 0
        THEN (sales_revenue - returns_revenue - cogs) / (sales_revenue - returns_revenue) END AS DECIMAL(18, 4)) AS gm_pct,
    orders,
    CAST(CASE WHEN orders > 0 THEN sales_revenue / orders END AS DECIMAL(18, 2)) AS aov
FROM agg
