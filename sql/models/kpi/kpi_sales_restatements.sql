-- materialized: table
-- description: Period close for sales: every published as-of (a snapshot kept in kpi_sales_monthly_snapshots by the run with that as-of) against today's restated figures of kpi_sales_monthly, per month closed at that as-of (ended on or before it) x customer region, plus region 'All'. published_* = the snapshot's values; restated_* = the current values; *_restatement = restated - published, what late or corrected data changed since that close (0 when nothing did). net_revenue = sales - returns (USD), gross_profit = net_revenue - cogs, net_units = units sold - units returned. A month or region that only one side has counts 0 on the other.
-- order_by: as_of, month, region
-- test: { unique: [as_of, month, region] }
-- test: { not_null: [as_of, month, region, published_net_revenue, restated_net_revenue] }
WITH closes AS (
    SELECT DISTINCT as_of FROM {{ ref("kpi_sales_monthly_snapshots") }}
),
sides AS (
    SELECT as_of, month, coalesce(region, 'Unknown') AS region,
        net_revenue AS published_net_revenue, gross_profit AS published_gross_profit,
        net_units AS published_net_units
    FROM {{ ref("kpi_sales_monthly_snapshots") }}
    WHERE CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) <= as_of
    UNION ALL BY NAME
    SELECT c.as_of, k.month, coalesce(k.region, 'Unknown') AS region,
        k.net_revenue AS restated_net_revenue, k.gross_profit AS restated_gross_profit,
        k.net_units AS restated_net_units
    FROM {{ ref("kpi_sales_monthly") }} AS k
    JOIN closes AS c ON CAST(k.month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) <= c.as_of
),
agg AS (
    SELECT as_of, month, CASE WHEN grouping(region) = 1 THEN 'All' ELSE region END AS region,
        CAST(coalesce(sum(published_net_revenue), 0) AS DECIMAL(18, 2)) AS published_net_revenue,
        CAST(coalesce(sum(restated_net_revenue), 0) AS DECIMAL(18, 2)) AS restated_net_revenue,
        CAST(coalesce(sum(published_gross_profit), 0) AS DECIMAL(18, 2)) AS published_gross_profit,
        CAST(coalesce(sum(restated_gross_profit), 0) AS DECIMAL(18, 2)) AS restated_gross_profit,
        CAST(coalesce(sum(published_net_units), 0) AS BIGINT) AS published_net_units,
        CAST(coalesce(sum(restated_net_units), 0) AS BIGINT) AS restated_net_units
    FROM sides
    GROUP BY GROUPING SETS ((as_of, month, region), (as_of, month))
)
SELECT
    as_of, CAST(year(month) AS INTEGER) AS year, month, region,
    published_net_revenue, restated_net_revenue,
    CAST(restated_net_revenue - published_net_revenue AS DECIMAL(18, 2)) AS net_revenue_restatement,
    published_gross_profit, restated_gross_profit,
    CAST(restated_gross_profit - published_gross_profit AS DECIMAL(18, 2)) AS gross_profit_restatement,
    published_net_units, restated_net_units,
    restated_net_units - published_net_units AS net_units_restatement
FROM agg
