-- materialized: table
-- description: Each rep's annual target decomposed to months: weight = the month's target_distribution pct (every month 1 when the year has no distribution rows: an even split), 0 for months in which the rep has no assignment (a rep hired mid-year is planned only from the month of hiring); monthly_target = round(annual_target x cumulative weight to this month / year's weight, 2) - the same to the month before, so the months add up exactly to the annual target (with the distribution summing to 100, a month gets annual_target x pct / 100 up to a cent). team and region are the rep's assignment in that month (the latest one starting in or before it), so a rep who moves keeps the earlier months' targets in the old team.
-- order_by: rep_id, month
-- test: { unique: [rep_id, month] }
-- partition_by: year
WITH years AS (
    SELECT DISTINCT year FROM {{ ref("targets") }}
),
calendar AS (
    SELECT y.year, CAST(m.m AS INTEGER) AS month_num, make_date(y.year, CAST(m.m AS INTEGER), 1) AS month
    FROM years AS y CROSS JOIN range(1, 13) AS m(m)
),
dist AS (
    SELECT year, month AS month_num, pct FROM {{ ref("target_distribution") }}
),
dist_years AS (
    SELECT DISTINCT year FROM dist
),
assignment AS (
    SELECT
        t.rep_id, c.year, c.month_num, c.month,
        arg_max(r.team, r.valid_from) AS team,
        arg_max(r.region, r.valid_from) AS region,
        count(r.rep_id) AS assignments,
        (SELECT count(*) FROM {{ ref("stg_reps") }} AS a WHERE a.rep_id = t.rep_id) AS known_rows
    FROM {{ ref("targets") }} AS t
    JOIN calendar AS c ON c.year = t.year
    LEFT JOIN {{ ref("stg_reps") }} AS r
        ON r.rep_id = t.rep_id
        AND r.valid_from <= CAST(c.month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)
        AND r.valid_to >= c.month
    GROUP BY ALL
),
weighted AS (
    SELECT
        a.rep_id, a.year, a.month_num, a.month, a.team, a.region,
        t.annual_target,
        CAST(CASE
            WHEN a.known_rows > 0 AND a.assignments = 0 THEN 0
            WHEN dy.year IS NULL THEN 1
            ELSE coalesce(d.pct, 0)
        END AS DECIMAL(9, 2)) AS weight
    FROM assignment AS a
    JOIN {{ ref("targets") }} AS t ON t.rep_id = a.rep_id AND t.year = a.year
    LEFT JOIN dist_years AS dy ON dy.year = a.year
    LEFT JOIN dist AS d ON d.year = a.year AND d.month_num = a.month_num
),
cumulative AS (
    SELECT
        *,
        sum(weight) OVER (PARTITION BY rep_id, year ORDER BY month_num) AS cum_weight,
        sum(weight) OVER (PARTITION BY rep_id, year) AS year_weight
    FROM weighted
),
allocated AS (
    SELECT
        *,
        CASE
            WHEN year_weight = 0 THEN NULL
            WHEN year_weight = 100 THEN round(annual_target * cum_weight * 0.01, 2)
            ELSE round(CAST(annual_target * cum_weight / year_weight AS DECIMAL(38, 6)), 2)
        END AS cum_target
    FROM cumulative
)
SELECT
    rep_id,
    year,
    month_num,
    month,
    team,
    region,
    CAST(annual_target AS DECIMAL(18, 2)) AS annual_target,
    weight,
    CAST(coalesce(
        cum_target - coalesce(lag(cum_target) OVER (PARTITION BY rep_id, year ORDER BY month_num), 0),
        CASE WHEN month_num = 12 THEN annual_target ELSE 0 END
    ) AS DECIMAL(18, 2)) AS monthly_target
FROM allocated
