-- materialized: table
-- description: RFM scores, segment and simple lifetime value per customer with a non-cancelled order up to the as-of date. recency_days = as-of date - last order date; frequency = orders; monetary = net revenue (sales - returns, USD). Each score is 1-5 by quintile of its customers' rank (score = 1 + floor(5 x (rank - 1) / customers), ties share a score; recency ranked from the oldest, so 5 = most recent, most frequent, highest spend). segment from r_score and f_score: Champions (r >= 4, f >= 4), New (r >= 4, f = 1), Potential loyalists (r >= 4, f 2-3), Loyal (r = 3, f >= 3), Need attention (r = 3, f <= 2), At risk (r <= 2, f >= 3), Hibernating (r = 2, f <= 2), Lost (r = 1, f <= 2). aov = sales_revenue / orders; tenure_years = days from the first order to the as-of date / 365.25 (at least 1); purchase_frequency = orders / tenure_years; annual_gross_profit = gross_profit (net of returns) / tenure_years; clv = annual_gross_profit / annual churn rate (churn_rate of the last complete year in kpi_customer_retention_yearly, i.e. expected lifetime = 1 / churn years).
-- order_by: customer_id
-- test: { unique: [customer_id] }
WITH sales AS (
    SELECT customer_id, min(order_date) AS first_order_date, max(order_date) AS last_order_date,
        count(DISTINCT order_id) AS orders, sum(net_revenue) AS sales_revenue, sum(gross_profit) AS sales_gross_profit
    FROM {{ ref("fct_order_lines") }}
    WHERE order_date <= DATE '{{ as_of }}'
    GROUP BY ALL
),
rets AS (
    SELECT customer_id, sum(returned_revenue) AS returned_revenue, sum(returned_gross_profit) AS returned_gross_profit
    FROM {{ ref("fct_returns") }}
    WHERE return_date <= DATE '{{ as_of }}'
    GROUP BY ALL
),
churn AS (
    SELECT arg_max(churn_rate, year) AS churn_rate
    FROM {{ ref("kpi_customer_retention_yearly") }}
    WHERE region = 'All' AND year < year(DATE '{{ as_of }}') AND churn_rate > 0
),
base AS (
    SELECT
        s.customer_id,
        s.first_order_date,
        s.last_order_date,
        CAST(DATE '{{ as_of }}' - s.last_order_date AS INTEGER) AS recency_days,
        CAST(s.orders AS BIGINT) AS frequency,
        CAST(s.sales_revenue - coalesce(r.returned_revenue, 0) AS DECIMAL(18, 2)) AS monetary,
        CAST(s.sales_revenue AS DECIMAL(18, 2)) AS sales_revenue,
        CAST(s.sales_gross_profit - coalesce(r.returned_gross_profit, 0) AS DECIMAL(18, 2)) AS gross_profit,
        greatest((DATE '{{ as_of }}' - s.first_order_date + 1) / 365.25, 1.0) AS tenure_years
    FROM sales AS s
    LEFT JOIN rets AS r ON r.customer_id = s.customer_id
),
scored AS (
    SELECT
        *,
        CAST(1 + floor(5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER ()) AS INTEGER) AS r_score,
        CAST(1 + floor(5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER ()) AS INTEGER) AS f_score,
        CAST(1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER ()) AS INTEGER) AS m_score
    FROM base
)
SELECT
    s.customer_id,
    c.customer_name,
    c.region,
    c.segment AS customer_segment,
    s.first_order_date,
    s.last_order_date,
    s.recency_days,
    s.frequency,
    s.monetary,
    s.r_score,
    s.f_score,
    s.m_score,
    CAST(s.r_score * 100 + s.f_score * 10 + s.m_score AS INTEGER) AS rfm_score,
    CASE
        WHEN s.r_score >= 4 AND s.f_score >= 4 THEN 'Champions'
        WHEN s.r_score >= 4 AND s.f_score = 1 THEN 'New'
        WHEN s.r_score >= 4 THEN 'Potential loyalists'
        WHEN s.r_score = 3 AND s.f_score >= 3 THEN 'Loyal'
        WHEN s.r_score = 3 THEN 'Need attention'
        WHEN s.f_score >= 3 THEN 'At risk'
        WHEN s.r_score = 2 THEN 'Hibernating'
        ELSE 'Lost'
    END AS rfm_segment,
    s.sales_revenue,
    s.gross_profit,
    CAST(s.sales_revenue / s.frequency AS DECIMAL(18, 2)) AS aov,
    CAST(s.tenure_years AS DECIMAL(18, 4)) AS tenure_years,
    CAST(s.frequency / s.tenure_years AS DECIMAL(18, 4)) AS purchase_frequency,
    CAST(s.gross_profit / s.tenure_years AS DECIMAL(18, 2)) AS annual_gross_profit,
    CAST(ch.churn_rate AS DECIMAL(18, 4)) AS annual_churn_rate,
    CAST(s.gross_profit / s.tenure_years / NULLIF(ch.churn_rate, 0) AS DECIMAL(18, 2)) AS clv
FROM scored AS s
LEFT JOIN {{ ref("customers") }} AS c ON c.customer_id = s.customer_id
CROSS JOIN churn AS ch
