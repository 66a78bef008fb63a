-- materialized: table
-- description: Sales activity per rep x month with the rep's team and region on the activity date: visits and calls (CRM activities), activities; visits_with_order = visits with outcome order_placed, visit_to_order_pct = visits_with_order / visits; orders = non-cancelled orders booked by the rep in the month (team of the sale date), orders_per_visit = orders / visits; net_revenue of those orders (USD, sales). Fractions as DECIMAL(18,4).
-- order_by: month, rep_id, team
-- test: { unique: [month, rep_id, team] }
-- partition_by: year
WITH acts AS (
    SELECT
        CAST(date_trunc('month', a.activity_date) AS DATE) AS month, a.rep_id,
        coalesce(r.team, 'Unassigned') AS team, coalesce(r.region, 'Unassigned') AS region,
        count(*) FILTER (WHERE a.activity_type = 'visit') AS visits,
        count(*) FILTER (WHERE a.activity_type = 'call') AS calls,
        count(*) AS activities,
        count(*) FILTER (WHERE a.activity_type = 'visit' AND a.outcome = 'order_placed') AS visits_with_order
    FROM {{ ref("crm_activities") }} AS a
    LEFT JOIN {{ ref("stg_reps") }} AS r
        ON r.rep_id = a.rep_id AND a.activity_date BETWEEN r.valid_from AND r.valid_to
    WHERE a.activity_date <= DATE '{{ as_of }}'
    GROUP BY ALL
),
ords AS (
    SELECT month, rep_id, coalesce(rep_team, 'Unassigned') AS team, coalesce(rep_region, 'Unassigned') AS region,
        count(*) AS orders, sum(net_revenue) AS net_revenue
    FROM {{ ref("fct_orders") }}
    WHERE NOT is_cancelled AND rep_id IS NOT NULL AND order_date <= DATE '{{ as_of }}'
    GROUP BY ALL
)
SELECT
    coalesce(a.month, o.month) AS month,
    CAST(year(coalesce(a.month, o.month)) AS INTEGER) AS year,
    coalesce(a.rep_id, o.rep_id) AS rep_id,
    coalesce(a.team, o.team) AS team,
    coalesce(a.region, o.region) AS region,
    CAST(coalesce(a.visits, 0) AS BIGINT) AS visits,
    CAST(coalesce(a.calls, 0) AS BIGINT) AS calls,
    CAST(coalesce(a.activities, 0) AS BIGINT) AS activities,
    CAST(coalesce(a.visits_with_order, 0) AS BIGINT) AS visits_with_order,
    CAST(CASE WHEN a.visits > 0 THEN a.visits_with_order / a.visits END AS DECIMAL(18, 4)) AS visit_to_order_pct,
    CAST(coalesce(o.orders, 0) AS BIGINT) AS orders,
    CAST(CASE WHEN a.visits > 0 THEN coalesce(o.orders, 0) / a.visits END AS DECIMAL(18, 4)) AS orders_per_visit,
    CAST(coalesce(o.net_revenue, 0) AS DECIMAL(18, 2)) AS net_revenue
FROM acts AS a
FULL JOIN ords AS o ON o.month = a.month AND o.rep_id = a.rep_id AND o.team = a.team
