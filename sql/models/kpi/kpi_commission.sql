-- materialized: table
-- description: Commission per rep x period (quarter and year, closed or current) from a tiered marginal plan on attainment: var.commission_tiers (default '0:0.02,0.8:0.03,1.0:0.05,1.2:0.07') lists attainment thresholds and rates, so net revenue up to 80 % of the target earns 2 %, from 80 % to 100 % 3 %, from 100 % to 120 % 5 % and above 120 % 7 % (accelerators above 100 %). commission = sum over bands of rate x (min(achieved, band upper x target) - band lower x target) for the part of achieved inside the band, rounded to the cent; a rep without a target earns the first rate on all of it. achieved, target and attainment_pct from kpi_target_attainment (net revenue with the rep's team at the time of the sale); top_tier_rate = the rate of the highest band reached; effective_rate = commission / achieved.
-- order_by: period_type, period_start, rep_id
-- test: { unique: [period_type, period_start, rep_id] }
-- partition_by: year
WITH tiers AS (
    SELECT
        CAST(split_part(t, ':', 1) AS DECIMAL(18, 4)) AS lower_bound,
        CAST(split_part(t, ':', 2) AS DECIMAL(18, 4)) AS rate
    FROM (SELECT unnest(string_split('{{ var.commission_tiers | default(value="0:0.02,0.8:0.03,1.0:0.05,1.2:0.07") }}', ',')) AS t)
),
bands AS (
    SELECT lower_bound, lead(lower_bound) OVER (ORDER BY lower_bound) AS upper_bound, rate,
        row_number() OVER (ORDER BY lower_bound) AS band_no
    FROM tiers
),
reps AS (
    SELECT entity AS rep_id, team, region, period_type, period_start, period_end, status, target, achieved,
        attainment_pct
    FROM {{ ref("kpi_target_attainment") }}
    WHERE level = 'rep' AND period_type IN ('quarter', 'year') AND status <> 'future'
),
pieces AS (
    SELECT
        r.rep_id, r.period_type, r.period_start, b.band_no, b.rate, b.lower_bound,
        CASE
            WHEN coalesce(r.target, 0) <= 0 THEN CASE WHEN b.band_no = 1 THEN greatest(r.achieved, 0) ELSE 0 END
            ELSE greatest(
                least(r.achieved, coalesce(b.upper_bound * r.target, r.achieved)) - b.lower_bound * r.target, 0)
        END AS band_revenue
    FROM reps AS r CROSS JOIN bands AS b
),
comm AS (
    SELECT
        rep_id, period_type, period_start,
        sum(band_revenue * rate) AS commission,
        arg_max(rate, lower_bound) FILTER (WHERE band_revenue > 0) AS top_tier_rate
    FROM pieces
    GROUP BY ALL
)
SELECT
    r.rep_id, r.team, r.region, r.period_type, r.period_start, r.period_end,
    CAST(year(r.period_start) AS INTEGER) AS year, r.status,
    r.target, r.achieved, r.attainment_pct,
    CAST(round(c.commission, 2) AS DECIMAL(18, 2)) AS commission,
    CAST(c.top_tier_rate AS DECIMAL(18, 4)) AS top_tier_rate,
    CAST(CASE WHEN r.achieved > 0 THEN round(c.commission, 2) / r.achieved END AS DECIMAL(18, 4)) AS effective_rate
FROM reps AS r
JOIN comm AS c ON c.rep_id = r.rep_id AND c.period_type = r.period_type AND c.period_start = r.period_start
