-- materialized: table
-- description: Rep dimension with history (slowly changing, type 2): one row per rep and assignment, rep_key = rep_id || '@' || valid_from, team, region and manager valid from valid_from to valid_to inclusive (9999-12-31 while current); is_current marks the latest assignment. Sales, targets and commission join on rep_id and the sale date between valid_from and valid_to.
-- order_by: rep_id, valid_from
-- test: { unique: [rep_id, valid_from] }
SELECT
    rep_id || '@' || strftime(valid_from, '%Y-%m-%d') AS rep_key,
    rep_id,
    rep_name,
    team,
    region,
    manager_id,
    manager_id IS NULL AS is_team_lead,
    hired_on,
    valid_from,
    valid_to,
    is_current,
    assignment_no
FROM {{ ref("stg_reps") }}
