-- materialized: table
-- description: Rep assignments with history (one row per rep and period in a team): valid_from = the assignment's first day (hired_on when blank), valid_to = its last day (9999-12-31 while current). A sale on day d belongs to the row with valid_from <= d <= valid_to.
-- order_by: rep_id, valid_from
-- test: { unique: [rep_id, valid_from] }
SELECT
    rep_id,
    rep_name,
    team,
    region,
    manager_id,
    hired_on,
    coalesce(valid_from, hired_on, DATE '1900-01-01') AS valid_from,
    coalesce(valid_to, DATE '9999-12-31') AS valid_to,
    valid_to IS NULL AS is_current,
    CAST(row_number() OVER (
        PARTITION BY rep_id ORDER BY coalesce(valid_from, hired_on, DATE '1900-01-01')
    ) AS INTEGER) AS assignment_no
FROM {{ ref("reps") }}
