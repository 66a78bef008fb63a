-- materialized: table
-- description: Opportunity results and pipeline per team (the rep's team on the creation day; 'All' = every team) x quarter of creation ('All' = every quarter): created, won, lost, open (status on the as-of date); win_rate = won / (won + lost); avg_cycle_days = mean of closed_on - created_on of won opportunities; won_amount = amounts of won opportunities (USD); open_amount = the latest stage amount of open opportunities, weighted_pipeline = sum of that amount x the stage's probability. Fractions as DECIMAL(18,4).
-- order_by: team, created_quarter
-- test: { unique: [team, created_quarter] }
WITH latest AS (
    -- the last stage entered on or before the as-of date (same day: the later stage)
    SELECT opportunity_id, amount AS stage_amount, probability
    FROM {{ ref("opportunity_stages") }}
    WHERE entered_on <= DATE '{{ as_of }}'
    QUALIFY row_number() OVER (
        PARTITION BY opportunity_id
        ORDER BY entered_on DESC, CASE stage WHEN 'lead' THEN 1 WHEN 'qualified' THEN 2 WHEN 'proposal' THEN 3
            WHEN 'negotiation' THEN 4 ELSE 5 END DESC
    ) = 1
),
opp AS (
    SELECT
        o.opportunity_id, o.status, o.created_on, o.closed_on, o.amount,
        CAST(date_trunc('quarter', o.created_on) AS DATE) AS created_quarter,
        coalesce(r.team, 'Unassigned') AS team,
        l.stage_amount, l.probability
    FROM {{ ref("opportunities") }} AS o
    LEFT JOIN {{ ref("stg_reps") }} AS r
        ON r.rep_id = o.rep_id AND o.created_on BETWEEN r.valid_from AND r.valid_to
    LEFT JOIN latest AS l ON l.opportunity_id = o.opportunity_id
    WHERE o.created_on <= DATE '{{ as_of }}'
),
agg AS (
    SELECT
        coalesce(team, 'All') AS team,
        coalesce(strftime(created_quarter, '%Y-%m-%d'), 'All') AS created_quarter,
        count(*) AS created,
        count(*) FILTER (WHERE status = 'won') AS won,
        count(*) FILTER (WHERE status = 'lost') AS lost,
        count(*) FILTER (WHERE status NOT IN ('won', 'lost') OR status IS NULL) AS open,
        avg(closed_on - created_on) FILTER (WHERE status = 'won') AS avg_cycle_days,
        sum(amount) FILTER (WHERE status = 'won') AS won_amount,
        sum(stage_amount) FILTER (WHERE status NOT IN ('won', 'lost') OR status IS NULL) AS open_amount,
        sum(stage_amount * probability) FILTER (WHERE status NOT IN ('won', 'lost') OR status IS NULL) AS weighted
    FROM opp
    GROUP BY GROUPING SETS ((team, created_quarter), (team), (created_quarter), ())
)
SELECT
    team, created_quarter,
    CAST(created AS BIGINT) AS created,
    CAST(won AS BIGINT) AS won,
    CAST(lost AS BIGINT) AS lost,
    CAST(open AS BIGINT) AS open,
    CAST(CASE WHEN won + lost > 0 THEN won / (won + lost) END AS DECIMAL(18, 4)) AS win_rate,
    CAST(avg_cycle_days AS DECIMAL(18, 2)) AS avg_cycle_days,
    CAST(coalesce(won_amount, 0) AS DECIMAL(18, 2)) AS won_amount,
    CAST(coalesce(open_amount, 0) AS DECIMAL(18, 2)) AS open_amount,
    CAST(coalesce(weighted, 0) AS DECIMAL(18, 2)) AS weighted_pipeline
FROM agg
