-- materialized: table
-- description: Market share per year (to the as-of year) x region x category (category 'All' = the region's whole market; region 'All' = every region): net_revenue = the company's sales - returns (USD) booked in the year, to the as-of date, to customers of the region (customer region), in products of the category; market_size = the estimate for the year (whole-year estimate also for the as-of year); share_pct = net_revenue / market_size; share_change_pct = annualised_share_pct / the previous year's annualised share - 1 (like with like: the as-of year's share to date is annualised first). is_partial_year marks the as-of year (revenue to date against a whole-year market); annualised_share_pct = share_pct x days in the year / days to the as-of date for it (= share_pct otherwise). Fractions as DECIMAL(18,6).
-- order_by: year, region, category
-- test: { unique: [year, region, category] }
WITH rev AS (
    -- Sales to the as-of date only: the as-of year's share is annualised from them.
    SELECT CAST(year(date_day) AS INTEGER) AS year, region, category,
        sum(net_revenue) AS net_revenue
    FROM {{ ref("kpi_sales_daily") }}
    WHERE date_day <= DATE '{{ as_of }}'
    GROUP BY ALL
),
market AS (
    SELECT year, region, category, market_size FROM {{ ref("market_size") }}
),
cells AS (
    SELECT
        coalesce(m.year, r.year) AS year, coalesce(m.region, r.region) AS region,
        coalesce(m.category, r.category) AS category,
        coalesce(r.net_revenue, 0) AS net_revenue, m.market_size
    FROM market AS m
    FULL JOIN rev AS r ON r.year = m.year AND r.region = m.region AND r.category = m.category
    WHERE coalesce(m.year, r.year) IN (SELECT DISTINCT year FROM market)
        AND coalesce(m.year, r.year) <= year(DATE '{{ as_of }}')
),
agg AS (
    SELECT year, coalesce(region, 'All') AS region, coalesce(category, 'All') AS category,
        sum(net_revenue) AS net_revenue, sum(market_size) AS market_size
    FROM cells
    GROUP BY GROUPING SETS ((year, region, category), (year, region), (year, category), (year))
),
shares AS (
    SELECT
        *,
        CASE WHEN market_size > 0 THEN net_revenue / market_size END AS share,
        year = year(DATE '{{ as_of }}') AS is_partial_year,
        CASE WHEN year = year(DATE '{{ as_of }}')
            THEN (make_date(year, 12, 31) - make_date(year, 1, 1) + 1) / (DATE '{{ as_of }}' - make_date(year, 1, 1) + 1)
            ELSE 1 END AS annualise
    FROM agg
)
SELECT
    CAST(year AS INTEGER) AS year,
    region,
    category,
    CAST(net_revenue AS DECIMAL(18, 2)) AS net_revenue,
    CAST(market_size AS DECIMAL(18, 2)) AS market_size,
    CAST(share AS DECIMAL(18, 6)) AS share_pct,
    CAST(share * annualise / NULLIF(lag(share * annualise) OVER (PARTITION BY region, category ORDER BY year), 0) - 1 AS DECIMAL(18, 6)) AS share_change_pct,
    is_partial_year,
    CAST(share * annualise AS DECIMAL(18, 6)) AS annualised_share_pct
FROM shares
