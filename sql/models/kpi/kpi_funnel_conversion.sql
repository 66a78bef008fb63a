-- materialized: table
-- description: Stage-to-stage conversion of the opportunity funnel (lead -> qualified -> proposal -> negotiation -> won) per team (the rep's team on the day the opportunity was created; 'All' = every team) x cohort quarter of created_on ('All' = every quarter) x step. entered = opportunities of the cohort that reached from_stage, converted = those that also reached to_stage, conversion_pct = converted / entered; still_open = entered but neither converted nor lost yet. is_bottleneck marks the step with the lowest conversion of the team and cohort (ties: the earlier step).
-- order_by: team, cohort_quarter, step_no
-- test: { unique: [team, cohort_quarter, step_no] }
WITH opp AS (
    SELECT
        o.opportunity_id, o.status,
        CAST(date_trunc('quarter', o.created_on) AS DATE) AS cohort,
        coalesce(r.team, 'Unassigned') AS team
    FROM {{ ref("opportunities") }} AS o
    LEFT JOIN {{ ref("stg_reps") }} AS r
        ON r.rep_id = o.rep_id AND o.created_on BETWEEN r.valid_from AND r.valid_to
    WHERE o.created_on <= DATE '{{ as_of }}'
),
reached AS (
    SELECT DISTINCT opportunity_id, stage FROM {{ ref("opportunity_stages") }} WHERE entered_on <= DATE '{{ as_of }}'
),
steps AS (
    SELECT * FROM (VALUES
        (1, 'lead', 'qualified'), (2, 'qualified', 'proposal'), (3, 'proposal', 'negotiation'),
        (4, 'negotiation', 'won')
    ) AS t(step_no, from_stage, to_stage)
),
flags AS (
    SELECT
        o.team, o.cohort, s.step_no, s.from_stage, s.to_stage, o.opportunity_id,
        t.opportunity_id IS NOT NULL AS converted,
        o.status = 'open' AS is_open
    FROM opp AS o
    CROSS JOIN steps AS s
    JOIN reached AS f ON f.opportunity_id = o.opportunity_id AND f.stage = s.from_stage
    LEFT JOIN reached AS t ON t.opportunity_id = o.opportunity_id AND t.stage = s.to_stage
),
agg AS (
    SELECT
        coalesce(team, 'All') AS team,
        coalesce(strftime(cohort, '%Y-%m-%d'), 'All') AS cohort_quarter,
        step_no, any_value(from_stage) AS from_stage, any_value(to_stage) AS to_stage,
        count(*) AS entered,
        count(*) FILTER (WHERE converted) AS converted,
        count(*) FILTER (WHERE NOT converted AND is_open) AS still_open
    FROM flags
    GROUP BY GROUPING SETS ((team, cohort, step_no), (team, step_no), (cohort, step_no), (step_no))
)
SELECT
    team, cohort_quarter, CAST(step_no AS INTEGER) AS step_no, from_stage, to_stage,
    CAST(entered AS BIGINT) AS entered,
    CAST(converted AS BIGINT) AS converted,
    CAST(still_open AS BIGINT) AS still_open,
    CAST(converted / NULLIF(entered, 0) AS DECIMAL(18, 4)) AS conversion_pct,
    row_number() OVER (PARTITION BY team, cohort_quarter ORDER BY converted / NULLIF(entered, 0), step_no) = 1 AS is_bottleneck
FROM agg
