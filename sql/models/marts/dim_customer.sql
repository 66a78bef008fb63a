-- materialized: table
-- description: One row per customer: master attributes (industry, size, region, segment, created_on) plus order history from non-cancelled orders: first_order_date, last_order_date, cohort_month = month of the first order (new customer = first order ever), lifetime orders and net_revenue (sales, USD).
-- order_by: customer_id
-- test: { unique: [customer_id] }
SELECT
    c.customer_id,
    c.customer_name,
    c.industry,
    c.size,
    c.region,
    c.segment,
    c.created_on,
    h.first_order_date,
    h.last_order_date,
    CAST(date_trunc('month', h.first_order_date) AS DATE) AS cohort_month,
    CAST(coalesce(h.orders, 0) AS BIGINT) AS lifetime_orders,
    CAST(coalesce(h.net_revenue, 0) AS DECIMAL(18, 2)) AS lifetime_net_revenue
FROM {{ ref("customers") }} AS c
LEFT JOIN (
    SELECT
        customer_id,
        min(order_date) AS first_order_date,
        max(order_date) AS last_order_date,
        count(*) AS orders,
        sum(net_revenue) AS net_revenue
    FROM {{ ref("fct_orders") }}
    WHERE NOT is_cancelled
    GROUP BY customer_id
) AS h ON h.customer_id = c.customer_id
