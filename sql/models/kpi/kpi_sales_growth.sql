-- materialized: table
-- description: Growth of net revenue (sales dated in the period - returns dated in it, USD) per period (period_type month, quarter or year, every period from the first year to the as-of date, zero when nothing sold) x breakdown (total, region = customer region, category, channel, segment) x member. The as-of period counts up to the as-of date (period_to) and is compared with as many days of the previous period and with the same dates a year earlier; a finished period with the whole others (as the reports do). prev_net_revenue = the previous period (while the period is in progress: as many days of it; for a year, the same dates as the year ago); pop_growth_pct = net_revenue / prev_net_revenue - 1 (MoM for months, QoQ for quarters, YoY for years); year_ago_net_revenue = the same period one year earlier (to the same date while in progress; February 2025's ends on 29 February 2024), yoy_growth_pct = net_revenue / year_ago_net_revenue - 1; ytd_net_revenue = 1 January to period_to, prior_ytd_net_revenue = 1 January of the year before to the same date a year before period_to, the same for every period type, ytd_growth_pct = ytd / prior_ytd - 1. Growth is NULL when its base is not positive; fractions as DECIMAL(18,4).
-- order_by: period_type, period_start, breakdown, member
-- test: { unique: [period_type, period_start, breakdown, member] }
-- partition_by: year
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
by_day AS (
    SELECT breakdown, member, date_day, sum(net_revenue) AS net_revenue, sum(gross_profit) AS gross_profit,
        sum(net_units) AS net_units
    FROM daily
    GROUP BY ALL
),
members AS (
    SELECT 'total' AS breakdown, 'All' AS member
    UNION
    SELECT DISTINCT breakdown, member FROM by_day
),
-- running totals per member over every day of dim_date: the sum over [a, b] is
-- cum(b) - cum(a - 1), a missing day (before the calendar) counting 0
cum AS (
    SELECT
        m.breakdown, m.member, d.date_day,
        sum(coalesce(b.net_revenue, 0)) OVER w AS c_net,
        sum(coalesce(b.gross_profit, 0)) OVER w AS c_gp,
        sum(coalesce(b.net_units, 0)) OVER w AS c_units
    FROM members AS m
    CROSS JOIN {{ ref("dim_date") }} AS d
    LEFT JOIN by_day AS b ON b.breakdown = m.breakdown AND b.member = m.member AND b.date_day = d.date_day
    WINDOW w AS (PARTITION BY m.breakdown, m.member ORDER BY d.date_day ROWS UNBOUNDED PRECEDING)
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
    -- A period in progress (period_to before period_end) is compared with as many days
    -- of the previous period and with the same dates a year earlier; a finished one
    -- with the whole others (so February 2025's year ago ends on 29 February 2024), as
    -- in the reports.
    SELECT
        p.period_type, p.period_start, p.period_end, p.period_to,
        CAST(p.period_start - INTERVAL 1 DAY AS DATE) AS before_start,
        CAST(p.prev_start - INTERVAL 1 DAY AS DATE) AS before_prev,
        CASE WHEN p.period_to = p.period_end THEN CAST(p.period_start - INTERVAL 1 DAY AS DATE)
            -- A year's previous period is the year ago: the same dates, as below.
            WHEN p.period_type = 'year' THEN CAST(p.period_to - INTERVAL 1 YEAR AS DATE)
            ELSE least(p.prev_start + CAST(p.period_to - p.period_start AS INTEGER),
                       CAST(p.period_start - INTERVAL 1 DAY AS DATE)) END AS prev_to,
        CAST(p.ya_start - INTERVAL 1 DAY AS DATE) AS before_ya,
        CASE WHEN p.period_to = p.period_end THEN p.ya_end
            ELSE least(CAST(p.period_to - INTERVAL 1 YEAR AS DATE), p.ya_end) END AS ya_end,
        CAST(date_trunc('year', p.period_start) - INTERVAL 1 DAY AS DATE) AS before_ytd,
        CAST(date_trunc('year', p.period_start) - INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE) AS before_pytd,
        -- The prior year to date ends on the same date a year earlier (28 February 2024
        -- for 28 February 2025, as a year in progress is compared): one rule whatever
        -- the period type.
        CAST(p.period_to - INTERVAL 1 YEAR AS DATE) AS pytd_end,
        m.breakdown, m.member
    FROM (
        SELECT *, least(period_end, DATE '{{ as_of }}') AS period_to,
            CAST(period_start - INTERVAL 1 YEAR AS DATE) AS ya_start,
            CAST(period_end + INTERVAL 1 DAY - INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE) AS ya_end
        FROM periods
    ) AS p CROSS JOIN members AS m
),
agg AS (
    SELECT
        g.period_type, g.period_start, g.period_end, g.period_to, g.breakdown, g.member,
        coalesce(e.c_net, 0) - coalesce(s.c_net, 0) AS net_revenue,
        coalesce(e.c_gp, 0) - coalesce(s.c_gp, 0) AS gross_profit,
        coalesce(e.c_units, 0) - coalesce(s.c_units, 0) AS net_units,
        coalesce(pt.c_net, 0) - coalesce(bp.c_net, 0) AS prev_net_revenue,
        coalesce(ye.c_net, 0) - coalesce(ys.c_net, 0) AS year_ago_net_revenue,
        coalesce(e.c_net, 0) - coalesce(yt.c_net, 0) AS ytd_net_revenue,
        coalesce(pe.c_net, 0) - coalesce(py.c_net, 0) AS prior_ytd_net_revenue
    FROM grid AS g
    LEFT JOIN cum AS e ON e.breakdown = g.breakdown AND e.member = g.member AND e.date_day = g.period_to
    LEFT JOIN cum AS s ON s.breakdown = g.breakdown AND s.member = g.member AND s.date_day = g.before_start
    LEFT JOIN cum AS pt ON pt.breakdown = g.breakdown AND pt.member = g.member AND pt.date_day = g.prev_to
    LEFT JOIN cum AS bp ON bp.breakdown = g.breakdown AND bp.member = g.member AND bp.date_day = g.before_prev
    LEFT JOIN cum AS ye ON ye.breakdown = g.breakdown AND ye.member = g.member AND ye.date_day = g.ya_end
    LEFT JOIN cum AS ys ON ys.breakdown = g.breakdown AND ys.member = g.member AND ys.date_day = g.before_ya
    LEFT JOIN cum AS yt ON yt.breakdown = g.breakdown AND yt.member = g.member AND yt.date_day = g.before_ytd
    LEFT JOIN cum AS pe ON pe.breakdown = g.breakdown AND pe.member = g.member AND pe.date_day = g.pytd_end
    LEFT JOIN cum AS py ON py.breakdown = g.breakdown AND py.member = g.member AND py.date_day = g.before_pytd
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
