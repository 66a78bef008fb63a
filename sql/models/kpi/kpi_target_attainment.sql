-- materialized: table
-- description: Targets against achievement per level (rep, team, region = the rep's team and region AT THE TIME OF THE SALE, company) x period (month, quarter, year) of every year with targets. target = sum of fct_targets_monthly (the annual target decomposed by the distribution table); achieved = net revenue (sales booked in the period - returns dated in it, USD) of the orders of the reps in that level, up to the as-of date (days after it are not counted, even when loaded); variance = achieved - target; attainment_pct = achieved / target (NULL without a target). status = closed (period ended on or before the as-of date), current (contains it) or future. run_rate_projection = achieved for closed periods, achieved / elapsed days x days in the period for the current one (elapsed = period start to the as-of date), NULL for future ones; projected_attainment_pct = run_rate_projection / target; target_to_date = the targets of the months up to the as-of date (the as-of month pro rata by days), pace_pct = achieved / target_to_date (seasonality-aware). rag (on attainment_pct when closed, on pace_pct when current): green when >= var.rag_green (default 1.00), amber when >= var.rag_amber (default 0.90), red below; NULL without a target or in the future. Fractions as DECIMAL(18,4).
-- order_by: level, period_type, period_start, entity
-- test: { unique: [level, period_type, period_start, entity] }
-- partition_by: year
-- snapshot: true
WITH targets AS (
    SELECT month, rep_id, coalesce(team, 'Unassigned') AS team, coalesce(region, 'Unassigned') AS region,
        monthly_target AS target, CAST(0 AS DECIMAL(18, 2)) AS achieved
    FROM {{ ref("fct_targets_monthly") }}
),
achieved AS (
    -- by day, up to the as-of date: a run for an earlier as-of date does not count the
    -- sales of the days after it, loaded since
    SELECT month, coalesce(rep_id, 'Unassigned') AS rep_id, coalesce(rep_team, 'Unassigned') AS team,
        coalesce(rep_region, 'Unassigned') AS region,
        CAST(0 AS DECIMAL(18, 2)) AS target, net_revenue AS achieved
    FROM {{ ref("kpi_sales_daily") }}
    WHERE year IN (SELECT DISTINCT year FROM {{ ref("fct_targets_monthly") }})
        AND date_day <= DATE '{{ as_of }}'
),
base AS (
    SELECT month, rep_id, team, region, sum(target) AS target, sum(achieved) AS achieved
    FROM (SELECT * FROM targets UNION ALL SELECT * FROM achieved)
    GROUP BY ALL
),
levels AS (
    SELECT 'rep' AS level, rep_id AS entity, month, target, achieved, team, region FROM base
    UNION ALL
    SELECT 'team', team, month, target, achieved, team, region FROM base
    UNION ALL
    SELECT 'region', region, month, target, achieved, NULL, region FROM base
    UNION ALL
    SELECT 'company', 'Company', month, target, achieved, NULL, NULL FROM base
),
periods AS (
    SELECT 'month' AS period_type, month AS period_start,
        CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS period_end, level, entity,
        target, achieved, team, region, month
    FROM levels
    UNION ALL
    SELECT 'quarter', CAST(date_trunc('quarter', month) AS DATE),
        CAST(date_trunc('quarter', month) + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE), level, entity,
        target, achieved, team, region, month
    FROM levels
    UNION ALL
    SELECT 'year', CAST(date_trunc('year', month) AS DATE),
        CAST(date_trunc('year', month) + INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE), level, entity,
        target, achieved, team, region, month
    FROM levels
),
agg AS (
    SELECT
        level, entity, period_type, period_start, period_end,
        -- the team and region of the period's latest month (a rep who moved shows the new one)
        arg_max(team, strftime(month, '%Y-%m-%d') || team) FILTER (WHERE team IS NOT NULL) AS team,
        arg_max(region, strftime(month, '%Y-%m-%d') || region) FILTER (WHERE region IS NOT NULL) AS region,
        CAST(sum(target) AS DECIMAL(18, 2)) AS target,
        CAST(sum(achieved) AS DECIMAL(18, 2)) AS achieved,
        -- the targets of the months up to the as-of date, the as-of month pro rata by days
        CAST(sum(target * least(greatest(DATE '{{ as_of }}' - month + 1, 0), day(last_day(month)))
            / day(last_day(month))) AS DECIMAL(18, 2)) AS target_to_date,
        CASE
            WHEN period_end <= DATE '{{ as_of }}' THEN 'closed'
            WHEN period_start <= DATE '{{ as_of }}' THEN 'current'
            ELSE 'future'
        END AS status,
        CAST(period_end - period_start + 1 AS INTEGER) AS period_days,
        CAST(greatest(least(period_end, DATE '{{ as_of }}') - period_start + 1, 0) AS INTEGER) AS elapsed_days
    FROM periods
    GROUP BY level, entity, period_type, period_start, period_end
),
measured AS (
    SELECT
        *,
        CAST(achieved - target AS DECIMAL(18, 2)) AS variance,
        CAST(CASE WHEN target > 0 AND status <> 'future' THEN achieved / target END AS DECIMAL(18, 4)) AS attainment_pct,
        CAST(CASE WHEN target_to_date > 0 THEN achieved / target_to_date END AS DECIMAL(18, 4)) AS pace_pct,
        CAST(CASE status
            WHEN 'closed' THEN achieved
            WHEN 'current' THEN achieved * period_days / elapsed_days
        END AS DECIMAL(18, 2)) AS run_rate_projection
    FROM agg
),
projected AS (
    SELECT
        *,
        CAST(CASE WHEN target > 0 THEN run_rate_projection / target END AS DECIMAL(18, 4))
            AS projected_attainment_pct
    FROM measured
)
SELECT
    level, entity, team, region, period_type, period_start, period_end,
    CAST(year(period_start) AS INTEGER) AS year, status, period_days, elapsed_days,
    target, achieved, variance, attainment_pct, target_to_date, pace_pct, run_rate_projection,
    projected_attainment_pct,
    CASE
        WHEN target IS NULL OR target <= 0 OR status = 'future' THEN NULL
        WHEN (CASE WHEN status = 'closed' THEN attainment_pct ELSE pace_pct END)
            >= CAST({{ var.rag_green | default(value="1.00") }} AS DECIMAL(18, 4)) THEN 'green'
        WHEN (CASE WHEN status = 'closed' THEN attainment_pct ELSE pace_pct END)
            >= CAST({{ var.rag_amber | default(value="0.90") }} AS DECIMAL(18, 4)) THEN 'amber'
        ELSE 'red'
    END AS rag
FROM projected
