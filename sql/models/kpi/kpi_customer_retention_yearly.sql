-- materialized: table
-- description: Yearly customer retention per calendar year (the as-of year to date) x customer region (region 'All' = every region): active_customers = customers with a non-cancelled order in the year; prior_active_customers = those with one in the year before; retained_customers = active in both; retention_pct = retained_customers / prior_active_customers; churned_customers = prior_active_customers - retained_customers, churn_rate = churned_customers / prior_active_customers; new_customers = first order ever in the year; reactivated_customers = active in the year, not in the year before, but earlier. Fractions as DECIMAL(18,4).
-- order_by: year, region
-- test: { unique: [year, region] }
WITH years AS (
    SELECT DISTINCT customer_id, coalesce(region, 'Unknown') AS region, CAST(year(month) AS INTEGER) AS year,
        CAST(year(cohort_month) AS INTEGER) AS first_year
    FROM {{ ref("fct_customer_months") }}
    WHERE ordered
),
flags AS (
    SELECT
        y.year, y.region, y.customer_id, y.first_year,
        p.customer_id IS NOT NULL AS active_prior
    FROM years AS y
    LEFT JOIN years AS p ON p.customer_id = y.customer_id AND p.year = y.year - 1
),
prior AS (
    SELECT p.year + 1 AS year, p.region, p.customer_id, c.customer_id IS NOT NULL AS active_now
    FROM years AS p
    LEFT JOIN years AS c ON c.customer_id = p.customer_id AND c.year = p.year + 1
    WHERE p.year + 1 <= year(DATE '{{ as_of }}')
),
cur AS (
    SELECT year, coalesce(region, 'All') AS region,
        count(*) AS active_customers,
        count(*) FILTER (WHERE first_year = year) AS new_customers,
        count(*) FILTER (WHERE NOT active_prior AND first_year < year) AS reactivated_customers
    FROM flags
    GROUP BY GROUPING SETS ((year, region), (year))
),
prev AS (
    SELECT year, coalesce(region, 'All') AS region,
        count(*) AS prior_active_customers,
        count(*) FILTER (WHERE active_now) AS retained_customers
    FROM prior
    GROUP BY GROUPING SETS ((year, region), (year))
)
SELECT
    CAST(coalesce(c.year, p.year) AS INTEGER) AS year,
    coalesce(c.region, p.region) AS region,
    CAST(coalesce(c.active_customers, 0) AS BIGINT) AS active_customers,
    CAST(coalesce(p.prior_active_customers, 0) AS BIGINT) AS prior_active_customers,
    CAST(coalesce(p.retained_customers, 0) AS BIGINT) AS retained_customers,
    CAST(CASE WHEN p.prior_active_customers > 0 THEN p.retained_customers / p.prior_active_customers END
        AS DECIMAL(18, 4)) AS retention_pct,
    CAST(coalesce(p.prior_active_customers - p.retained_customers, 0) AS BIGINT) AS churned_customers,
    CAST(CASE WHEN p.prior_active_customers > 0
        THEN (p.prior_active_customers - p.retained_customers) / p.prior_active_customers END
        AS DECIMAL(18, 4)) AS churn_rate,
    CAST(coalesce(c.new_customers, 0) AS BIGINT) AS new_customers,
    CAST(coalesce(c.reactivated_customers, 0) AS BIGINT) AS reactivated_customers
FROM cur AS c
FULL JOIN prev AS p ON p.year = c.year AND p.region = c.region
