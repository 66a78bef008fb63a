-- materialized: table
-- description: Retention and churn by monthly cohort (cohort_month = month of the customer's first non-cancelled order) x months_since_first (0 = the cohort month) up to the as-of month. cohort_size = customers in the cohort; ordering_customers = those with an order in that month, retention_pct = ordering_customers / cohort_size; active_customers = those with an order in the var.churn_window_months (default 12) months ending with that month, churned_customers = cohort_size - active_customers, churn_pct = churned_customers / cohort_size. Fractions as DECIMAL(18,4).
-- order_by: cohort_month, months_since_first
-- test: { unique: [cohort_month, months_since_first] }
-- partition_by: year
WITH agg AS (
    SELECT
        cohort_month,
        months_since_first,
        month,
        count(*) AS cohort_size,
        count(*) FILTER (WHERE ordered) AS ordering_customers,
        count(*) FILTER (WHERE is_active) AS active_customers
    FROM {{ ref("fct_customer_months") }}
    GROUP BY ALL
)
SELECT
    cohort_month,
    months_since_first,
    month,
    CAST(year(month) AS INTEGER) AS year,
    CAST(cohort_size AS BIGINT) AS cohort_size,
    CAST(ordering_customers AS BIGINT) AS ordering_customers,
    CAST(ordering_customers / cohort_size AS DECIMAL(18, 4)) AS retention_pct,
    CAST(active_customers AS BIGINT) AS active_customers,
    CAST(cohort_size - active_customers AS BIGINT) AS churned_customers,
    CAST((cohort_size - active_customers) / cohort_size AS DECIMAL(18, 4)) AS churn_pct
FROM agg
