-- materialized: table
-- description: Period close for targets: every published as-of (a snapshot kept in kpi_target_attainment_snapshots by the run with that as-of) against today's restated kpi_target_attainment, per level x entity x period (month, quarter, year) closed at that as-of (ended on or before it) and at this run's as-of: a period this run has not closed (an earlier close rerun) counts its sales up to the run's as-of only and has no restated figure yet. published_* = the snapshot's values, restated_* = the current ones; achieved_restatement = restated_achieved - published_achieved (late or corrected sales since that close); rag_changed is true when the RAG status is not the one published. Fractions as DECIMAL(18,4).
-- order_by: as_of, level, period_type, period_start, entity
-- test: { unique: [as_of, level, period_type, period_start, entity] }
WITH closes AS (
    SELECT DISTINCT as_of FROM {{ ref("kpi_target_attainment_snapshots") }}
),
published AS (
    SELECT as_of, level, entity, period_type, period_start, period_end, target, achieved,
        attainment_pct, rag
    FROM {{ ref("kpi_target_attainment_snapshots") }}
    WHERE period_end <= as_of AND period_end <= DATE '{{ as_of }}'
),
restated AS (
    SELECT c.as_of, k.level, k.entity, k.period_type, k.period_start, k.period_end, k.target,
        k.achieved, k.attainment_pct, k.rag
    FROM {{ ref("kpi_target_attainment") }} AS k
    JOIN closes AS c ON k.period_end <= c.as_of
    WHERE k.period_end <= DATE '{{ as_of }}'
)
SELECT
    as_of, CAST(year(period_start) AS INTEGER) AS year, level, entity, period_type,
    period_start, period_end,
    p.target AS published_target, r.target AS restated_target,
    p.achieved AS published_achieved, r.achieved AS restated_achieved,
    CAST(coalesce(r.achieved, 0) - coalesce(p.achieved, 0) AS DECIMAL(18, 2)) AS achieved_restatement,
    p.attainment_pct AS published_attainment_pct, r.attainment_pct AS restated_attainment_pct,
    p.rag AS published_rag, r.rag AS restated_rag,
    p.rag IS DISTINCT FROM r.rag AS rag_changed
FROM published AS p
FULL JOIN restated AS r USING (as_of, level, entity, period_type, period_start, period_end)
