-- materialized: table
-- description: Customer KPIs per month x customer region (region 'All' = every region), from fct_customer_months (non-cancelled orders, the customer's region). ordering_customers = distinct customers with an order in the month; new_customers = first order ever in the month; repeat_customers = ordering and not new; reactivated_customers = ordering after var.churn_window_months (default 12) months without an order; churned_customers = customers whose last order is exactly churn_window_months months back (they became churned this month); customer_base = customers with an order in the churn window ending with the month; churn_rate = churned_customers / customer_base of the month before; new_revenue and repeat_revenue = sales (USD) of new and repeat customers; orders; aov = sales_revenue / orders; purchase_frequency = orders / ordering_customers. Fractions as DECIMAL(18,4).
-- order_by: month, region
-- test: { unique: [month, region] }
-- partition_by: year
WITH agg AS (
    SELECT
        month,
        coalesce(region, 'Unknown') AS region,
        count(*) FILTER (WHERE ordered) AS ordering_customers,
        count(*) FILTER (WHERE is_new) AS new_customers,
        count(*) FILTER (WHERE is_repeat) AS repeat_customers,
        count(*) FILTER (WHERE is_reactivated) AS reactivated_customers,
        count(*) FILTER (WHERE is_churned_now) AS churned_customers,
        count(*) FILTER (WHERE is_active) AS customer_base,
        sum(sales_revenue) FILTER (WHERE is_new) AS new_revenue,
        sum(sales_revenue) FILTER (WHERE is_repeat) AS repeat_revenue,
        sum(orders) AS orders,
        sum(sales_revenue) AS sales_revenue
    FROM {{ ref("fct_customer_months") }}
    GROUP BY GROUPING SETS ((month, coalesce(region, 'Unknown')), (month))
),
named AS (
    SELECT * REPLACE (coalesce(region, 'All') AS region) FROM agg
)
SELECT
    month,
    CAST(year(month) AS INTEGER) AS year,
    region,
    CAST(ordering_customers AS BIGINT) AS ordering_customers,
    CAST(new_customers AS BIGINT) AS new_customers,
    CAST(repeat_customers AS BIGINT) AS repeat_customers,
    CAST(reactivated_customers AS BIGINT) AS reactivated_customers,
    CAST(churned_customers AS BIGINT) AS churned_customers,
    CAST(customer_base AS BIGINT) AS customer_base,
    CAST(CASE WHEN lag(customer_base) OVER w > 0 THEN churned_customers / lag(customer_base) OVER w END
        AS DECIMAL(18, 4)) AS churn_rate,
    CAST(coalesce(new_revenue, 0) AS DECIMAL(18, 2)) AS new_revenue,
    CAST(coalesce(repeat_revenue, 0) AS DECIMAL(18, 2)) AS repeat_revenue,
    CAST(orders AS BIGINT) AS orders,
    CAST(sales_revenue AS DECIMAL(18, 2)) AS sales_revenue,
    CAST(CASE WHEN orders > 0 THEN sales_revenue / orders END AS DECIMAL(18, 2)) AS aov,
    CAST(CASE WHEN ordering_customers > 0 THEN orders / ordering_customers END AS DECIMAL(18, 4))
        AS purchase_frequency
FROM named
WINDOW w AS (PARTITION BY region ORDER BY month)
