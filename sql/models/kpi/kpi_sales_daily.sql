-- materialized: table
-- description: Quantitative KPIs per day x product x customer region x customer segment x channel x rep (with the rep's team and region at the time of the sale). Sales are booked on the order date, returns on the return date with the original sale's attributes. sales_revenue = sum of line net_revenue (USD, net of tax and discounts, cancelled orders excluded); returns_revenue = sum of returned_revenue; net_revenue = sales_revenue - returns_revenue; gross_revenue = before discounts, discount_amount = gross_revenue - sales_revenue; units_sold, units_returned, net_units = sold - returned; cogs = COGS of units sold (standard cost of the order date) - COGS of units returned; gross_profit = net_revenue - cogs; orders = distinct orders with a line in the cell. Roll up to week, month, quarter or year with dim_date.
-- order_by: date_day, sku, region, segment, channel, rep_id, rep_team
-- test: { unique: [date_day, sku, region, segment, channel, rep_id, rep_team] }
-- partition_by: year, month
WITH moves AS (
    SELECT
        order_date AS date_day, sku, category, subcategory, region, segment, channel,
        rep_id, rep_team, rep_region, order_id,
        gross_revenue, discount_amount, net_revenue AS sales_revenue, units AS units_sold,
        cogs AS sales_cogs
    FROM {{ ref("fct_order_lines") }}
    UNION ALL BY NAME
    SELECT
        return_date AS date_day, sku, category, subcategory, region, segment, channel,
        rep_id, rep_team, rep_region,
        returned_revenue AS returns_revenue, returned_units AS units_returned,
        returned_cogs AS returns_cogs
    FROM {{ ref("fct_returns") }}
),
agg AS (
    SELECT
        date_day, sku, category, subcategory, region, segment, channel, rep_id, rep_team, rep_region,
        CAST(coalesce(sum(gross_revenue), 0) AS DECIMAL(18, 2)) AS gross_revenue,
        CAST(coalesce(sum(discount_amount), 0) AS DECIMAL(18, 2)) AS discount_amount,
        CAST(coalesce(sum(sales_revenue), 0) AS DECIMAL(18, 2)) AS sales_revenue,
        CAST(coalesce(sum(returns_revenue), 0) AS DECIMAL(18, 2)) AS returns_revenue,
        CAST(coalesce(sum(units_sold), 0) AS BIGINT) AS units_sold,
        CAST(coalesce(sum(units_returned), 0) AS BIGINT) AS units_returned,
        CAST(coalesce(sum(sales_cogs), 0) - coalesce(sum(returns_cogs), 0) AS DECIMAL(18, 2)) AS cogs,
        CAST(count(DISTINCT order_id) AS BIGINT) AS orders
    FROM moves
    GROUP BY ALL
)
SELECT
    date_day, CAST(year(date_day) AS INTEGER) AS year,
    CAST(date_trunc('month', date_day) AS DATE) AS month, sku, category, subcategory, region, segment, channel, rep_id, rep_team, rep_region,
    gross_revenue, discount_amount, sales_revenue, returns_revenue,
    CAST(sales_revenue - returns_revenue AS DECIMAL(18, 2)) AS net_revenue,
    units_sold, units_returned, units_sold - units_returned AS net_units,
    cogs,
    CAST(sales_revenue - returns_revenue - cogs AS DECIMAL(18, 2)) AS gross_profit,
    orders
FROM agg
