-- materialized: table
-- description: Growth of net revenue (sales dated in the period - returns dated in it, USD) per period (period_type month, quarter or year, every period from the first year to the as-of date, zero when nothing sold) x breakdown (total, region = customer region, category, channel, segment) x member. The as-of period counts up to the as-of date (period_to). prev_net_revenue = the whole previous period; pop_growth_pct = net_revenue / prev_net_revenue - 1 (MoM for months, QoQ for quarters, YoY for years); year_ago_net_revenue = the same dates one year earlier, yoy_growth_pct = net_revenue / year_ago_net_revenue - 1; ytd_net_revenue = 1 January to period_to, prior_ytd_net_revenue = the same dates one year earlier, ytd_growth_pct = ytd / prior_ytd - 1. Growth is NULL when its base is not positive; fractions as DECIMAL(18,4).
-- order_by: period_type, period_start, breakdown, member
WITH daily AS (
    SELECT date_day, 'total' AS breakdown, 'All' AS member, net_revenue, gross_profit, net_units
    FROM {{ ref("kpi_sales_daily") }}
    UNION ALL
    SELECT date_day, 'region', coalesce(region, 'Unknown'), net_revenue, gross_profit, net_units
    FROM {{ ref("kpi_sales_daily") }}
    UNION ALL
    SELECT date_day, 'category', coalesce(category, 'Unknown'), net_revenue, gross_profit, net_units
    FROM {{ ref("kpi_sales_daily") }}
    UNION ALL
    SELECT date_day, 'channel', coalesce(channel, 'unknown'), net_revenue, gross_profit, net_units
    FROM {{ ref("kpi_sales_daily") }}
    UNION ALL
    SELECT date_day, 'segment', coalesce(segment, 'Unknown'), net_revenue, gross_profit, net_units
    FROM {{ ref("kpi_sales_daily") }}
),
members AS (
    SELECT 'total' AS breakdown, 'All' AS member
    UNION
    SELECT DISTINCT breakdown, member FROM daily
),
periods AS (
    SELECT DISTINCT 'month' AS period_type, month AS period_start,
        CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS period_end,
        CAST(month - INTERVAL 1 MONTH AS DATE) AS prev_start
    FROM {{ ref("dim_date") }} WHERE month <= DATE '{{ as_of }}'
    UNION ALL
    SELECT DISTINCT 'quarter', quarter, CAST(quarter + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE),
        CAST(quarter - INTERVAL 3 MONTH AS DATE)
    FROM {{ ref("dim_date") }} WHERE quarter <= DATE '{{ as_of }}'
    UNION ALL
    SELECT DISTINCT 'year', CAST(date_trunc('year', date_day) AS DATE),
        CAST(date_trunc('year', date_day) + INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE),
        CAST(date_trunc('year', date_day) - INTERVAL 1 YEAR AS DATE)
    FROM {{ ref("dim_date") }} WHERE date_day <= DATE '{{ as_of }}'
),
grid AS (
    SELECT
        p.period_type, p.period_start, p.period_end,
        least(p.period_end, DATE '{{ as_of }}') AS period_to,
        p.prev_start,
        CAST(p.period_start - INTERVAL 1 DAY AS DATE) AS prev_end,
        CAST(p.period_start - INTERVAL 1 YEAR AS DATE) AS ya_start,
        CAST(least(p.period_end, DATE '{{ as_of }}') - INTERVAL 1 YEAR AS DATE) AS ya_end,
        CAST(date_trunc('year', p.period_start) AS DATE) AS ytd_start,
        CAST(date_trunc('year', p.period_start) - INTERVAL 1 YEAR AS DATE) AS pytd_start,
        m.breakdown, m.member
    FROM periods AS p CROSS JOIN members AS m
),
agg AS (
    SELECT
        g.period_type, g.period_start, g.period_end, g.period_to, g.breakdown, g.member,
        coalesce(sum(d.net_revenue) FILTER (WHERE d.date_day BETWEEN g.period_start AND g.period_to), 0) AS net_revenue,
        coalesce(sum(d.gross_profit) FILTER (WHERE d.date_day BETWEEN g.period_start AND g.period_to), 0) AS gross_profit,
        coalesce(sum(d.net_units) FILTER (WHERE d.date_day BETWEEN g.period_start AND g.period_to), 0) AS net_units,
        coalesce(sum(d.net_revenue) FILTER (WHERE d.date_day BETWEEN g.prev_start AND g.prev_end), 0) AS prev_net_revenue,
        coalesce(sum(d.net_revenue) FILTER (WHERE d.date_day BETWEEN g.ya_start AND g.ya_end), 0) AS year_ago_net_revenue,
        coalesce(sum(d.net_revenue) FILTER (WHERE d.date_day BETWEEN g.ytd_start AND g.period_to), 0) AS ytd_net_revenue,
        coalesce(sum(d.net_revenue) FILTER (WHERE d.date_day BETWEEN g.pytd_start AND g.ya_end), 0) AS prior_ytd_net_revenue
    FROM grid AS g
    LEFT JOIN daily AS d
        ON d.breakdown = g.breakdown AND d.member = g.member
        AND d.date_day BETWEEN least(g.prev_start, g.pytd_start) AND g.period_to
    GROUP BY ALL
)
SELECT
    period_type, period_start, period_end, period_to,
    CAST(year(period_start) AS INTEGER) AS year,
    breakdown, member,
    CAST(net_revenue AS DECIMAL(18, 2)) AS net_revenue,
    CAST(gross_profit AS DECIMAL(18, 2)) AS gross_profit,
    CAST(net_units AS BIGINT) AS net_units,
    CAST(prev_net_revenue AS DECIMAL(18, 2)) AS prev_net_revenue,
    CAST(CASE WHEN prev_net_revenue > 0 THEN net_revenue / prev_net_revenue - 1 END AS DECIMAL(18, 4)) AS pop_growth_pct,
    CAST(year_ago_net_revenue AS DECIMAL(18, 2)) AS year_ago_net_revenue,
    CAST(CASE WHEN year_ago_net_revenue > 0 THEN net_revenue / year_ago_net_revenue - 1 END AS DECIMAL(18, 4)) AS yoy_growth_pct,
    CAST(ytd_net_revenue AS DECIMAL(18, 2)) AS ytd_net_revenue,
    CAST(prior_ytd_net_revenue AS DECIMAL(18, 2)) AS prior_ytd_net_revenue,
    CAST(CASE WHEN prior_ytd_net_revenue > 0 THEN ytd_net_revenue / prior_ytd_net_revenue - 1 END AS DECIMAL(18, 4)) AS ytd_growth_pct
FROM agg
