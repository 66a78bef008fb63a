-- materialized: table
-- description: Quantitative KPIs per ISO week (week_start = Monday) x product category x customer region x customer segment x channel. Sales are booked on the order date, returns in the period of the return date with the original sale's attributes (customer region and segment, channel, rep and the rep's team and region at the time of the sale). sales_revenue = sum of line net_revenue (USD at the order month's FX rate, net of tax and discounts, cancelled orders excluded); returns_revenue = value of the returns dated in the period; net_revenue = sales_revenue - returns_revenue; gross_revenue = sales before discounts; discount_amount = gross_revenue - sales_revenue; discount_pct = discount_amount / gross_revenue; units_sold, units_returned, net_units; cogs = COGS of units sold at the standard cost of the order date - COGS of units returned; gross_profit = net_revenue - cogs; gm_pct = gross_profit / net_revenue (NULL when net_revenue is 0); orders = distinct orders booked; aov = sales_revenue / orders. Ratios are DECIMAL(18,4) fractions (0.25 = 25 %).
-- order_by: week_start, category, region, segment, channel
-- test: { unique: [week_start, category, region, segment, channel] }
-- partition_by: iso_year
WITH moves AS (
    SELECT
        CAST(date_trunc('week', f.order_date) AS DATE) AS week_start,
        CAST(isoyear(f.order_date) AS INTEGER) AS iso_year,
        CAST(weekofyear(f.order_date) AS INTEGER) AS iso_week, f.category, f.region, f.segment,
        f.channel, order_id,
        gross_revenue, discount_amount, net_revenue AS sales_revenue, units AS units_sold,
        cogs AS sales_cogs
    FROM {{ ref("fct_order_lines") }} AS f
    UNION ALL BY NAME
    SELECT
        CAST(date_trunc('week', f.return_date) AS DATE) AS week_start,
        CAST(isoyear(f.return_date) AS INTEGER) AS iso_year,
        CAST(weekofyear(f.return_date) AS INTEGER) AS iso_week, f.category, f.region, f.segment,
        f.channel,
        returned_revenue AS returns_revenue, returned_units AS units_returned,
        returned_cogs AS returns_cogs
    FROM {{ ref("fct_returns") }} AS f
),
agg AS (
    SELECT
        week_start, iso_year, iso_week, category, region, segment, channel,
        CAST(coalesce(sum(gross_revenue), 0) AS DECIMAL(18, 2)) AS gross_revenue,
        CAST(coalesce(sum(discount_amount), 0) AS DECIMAL(18, 2)) AS discount_amount,
        CAST(coalesce(sum(sales_revenue), 0) AS DECIMAL(18, 2)) AS sales_revenue,
        CAST(coalesce(sum(returns_revenue), 0) AS DECIMAL(18, 2)) AS returns_revenue,
        CAST(coalesce(sum(units_sold), 0) AS BIGINT) AS units_sold,
        CAST(coalesce(sum(units_returned), 0) AS BIGINT) AS units_returned,
        CAST(coalesce(sum(sales_cogs), 0) - coalesce(sum(returns_cogs), 0) AS DECIMAL(18,
        2)) AS cogs,
        CAST(count(DISTINCT order_id) AS BIGINT) AS orders
    FROM moves
    GROUP BY ALL
)
SELECT
    week_start, iso_year, iso_week, category, region, segment, channel,
    gross_revenue, discount_amount,
    CAST(CASE WHEN gross_revenue <> 0 THEN discount_amount / gross_revenue END AS DECIMAL(18, 4)) AS discount_pct,
    sales_revenue, returns_revenue,
    CAST(sales_revenue - returns_revenue AS DECIMAL(18, 2)) AS net_revenue,
    units_sold, units_returned, units_sold - units_returned AS net_units,
    cogs,
    CAST(sales_revenue - returns_revenue - cogs AS DECIMAL(18, 2)) AS gross_profit,
    CAST(CASE WHEN sales_revenue - returns_revenue <> 0
        THEN (sales_revenue - returns_revenue - cogs) / (sales_revenue - returns_revenue) END AS DECIMAL(18,
        4)) AS gm_pct,
    orders,
    CAST(CASE WHEN orders > 0 THEN sales_revenue / orders END AS DECIMAL(18, 2)) AS aov
FROM agg
