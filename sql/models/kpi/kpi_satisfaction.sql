-- materialized: table
-- description: Satisfaction per period (period_type month, quarter or year of the response date) x breakdown (total, region = the customer's region on the response, category, sku) x member. csat_responses = responses with a CSAT score, satisfied = CSAT 4 or 5, csat_pct = satisfied / csat_responses; nps_responses = responses with an NPS score, promoters = 9-10, passives = 7-8, detractors = 0-6, nps = 100 x (promoters - detractors) / nps_responses (points, -100 to 100, DECIMAL(9,2)); avg_csat. Counts are kept so that any other period can be recomputed.
-- order_by: period_type, period_start, breakdown, member
-- test: { unique: [period_type, period_start, breakdown, member] }
-- partition_by: year
WITH r AS (
    SELECT s.response_date, coalesce(s.region, 'Unknown') AS region, coalesce(s.sku, 'Unknown') AS sku,
        coalesce(p.category, 'Unknown') AS category, s.csat, s.nps
    FROM {{ ref("survey_responses") }} AS s
    LEFT JOIN {{ ref("products") }} AS p ON p.sku = s.sku
    WHERE s.response_date <= DATE '{{ as_of }}'
),
members AS (
    SELECT response_date, 'total' AS breakdown, 'All' AS member, csat, nps FROM r
    UNION ALL SELECT response_date, 'region', region, csat, nps FROM r
    UNION ALL SELECT response_date, 'category', category, csat, nps FROM r
    UNION ALL SELECT response_date, 'sku', sku, csat, nps FROM r
),
periods AS (
    SELECT 'month' AS period_type, CAST(date_trunc('month', response_date) AS DATE) AS period_start, * FROM members
    UNION ALL
    SELECT 'quarter', CAST(date_trunc('quarter', response_date) AS DATE), * FROM members
    UNION ALL
    SELECT 'year', CAST(date_trunc('year', response_date) AS DATE), * FROM members
),
agg AS (
    SELECT
        period_type, period_start, breakdown, member,
        count(csat) AS csat_responses,
        count(*) FILTER (WHERE csat >= 4) AS satisfied,
        avg(csat) AS avg_csat,
        count(nps) AS nps_responses,
        count(*) FILTER (WHERE nps >= 9) AS promoters,
        count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
        count(*) FILTER (WHERE nps <= 6) AS detractors
    FROM periods
    GROUP BY ALL
)
SELECT
    period_type, period_start, CAST(year(period_start) AS INTEGER) AS year, breakdown, member,
    CAST(csat_responses AS BIGINT) AS csat_responses,
    CAST(satisfied AS BIGINT) AS satisfied,
    CAST(CASE WHEN csat_responses > 0 THEN satisfied / csat_responses END AS DECIMAL(18, 4)) AS csat_pct,
    CAST(avg_csat AS DECIMAL(18, 4)) AS avg_csat,
    CAST(nps_responses AS BIGINT) AS nps_responses,
    CAST(promoters AS BIGINT) AS promoters,
    CAST(passives AS BIGINT) AS passives,
    CAST(detractors AS BIGINT) AS detractors,
    CAST(CASE WHEN nps_responses > 0 THEN 100.0 * (promoters - detractors) / nps_responses END AS DECIMAL(9, 2)) AS nps
FROM agg
