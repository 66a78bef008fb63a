-- materialized: table
-- description: One row per customer and month from the month of the customer's first order (non-cancelled) to the as-of month. ordered = the customer booked an order in the month; orders and sales_revenue (USD, net of tax and discounts) of the month; is_new = the first order ever is in the month; is_repeat = ordered and not new; is_reactivated = ordered after no order in the var.churn_window_months (default 12) months before; is_active = an order in the churn window ending with this month; is_churned_now = not active this month but active the month before (the month the customer counts as churned: churn_window_months without an order).
-- order_by: customer_id, month
-- test: { unique: [customer_id, month] }
-- partition_by: year
WITH months AS (
    SELECT customer_id, month, count(*) AS orders, sum(net_revenue) AS sales_revenue
    FROM {{ ref("fct_orders") }}
    WHERE NOT is_cancelled AND month <= DATE '{{ as_of }}'
    GROUP BY ALL
),
firsts AS (
    SELECT customer_id, min(month) AS cohort_month FROM months GROUP BY ALL
),
grid AS (
    SELECT f.customer_id, f.cohort_month, CAST(g.m AS DATE) AS month
    FROM firsts AS f,
        LATERAL (SELECT unnest(generate_series(f.cohort_month, CAST(date_trunc('month', DATE '{{ as_of }}') AS DATE), INTERVAL 1 MONTH)) AS m) AS g
),
filled AS (
    SELECT
        g.customer_id, g.cohort_month, g.month,
        CAST(datediff('month', g.cohort_month, g.month) AS INTEGER) AS months_since_first,
        m.orders IS NOT NULL AS ordered,
        CAST(coalesce(m.orders, 0) AS BIGINT) AS orders,
        CAST(coalesce(m.sales_revenue, 0) AS DECIMAL(18, 2)) AS sales_revenue
    FROM grid AS g
    LEFT JOIN months AS m ON m.customer_id = g.customer_id AND m.month = g.month
),
windowed AS (
    SELECT
        *,
        -- orders in the window of W months ending with this month, and in the W months before it
        count(*) FILTER (WHERE ordered) OVER (
            PARTITION BY customer_id ORDER BY month
            ROWS BETWEEN {{ var.churn_window_months | default(value="12") }} - 1 PRECEDING AND CURRENT ROW
        ) AS window_orders,
        count(*) FILTER (WHERE ordered) OVER (
            PARTITION BY customer_id ORDER BY month
            ROWS BETWEEN {{ var.churn_window_months | default(value="12") }} PRECEDING AND 1 PRECEDING
        ) AS prior_window_orders
    FROM filled
)
SELECT
    w.customer_id,
    w.month,
    CAST(year(w.month) AS INTEGER) AS year,
    w.cohort_month,
    w.months_since_first,
    c.region,
    c.segment,
    w.ordered,
    w.orders,
    w.sales_revenue,
    w.ordered AND w.months_since_first = 0 AS is_new,
    w.ordered AND w.months_since_first > 0 AS is_repeat,
    w.ordered AND w.months_since_first > 0 AND w.prior_window_orders = 0 AS is_reactivated,
    w.window_orders > 0 AS is_active,
    w.window_orders = 0 AND lag(w.window_orders) OVER (PARTITION BY w.customer_id ORDER BY w.month) > 0
        AS is_churned_now
FROM windowed AS w
LEFT JOIN {{ ref("customers") }} AS c ON c.customer_id = w.customer_id
