-- materialized: table
-- description: A complete standard-cost timeline per product (USD per unit): the finance periods (valid_to = 9999-12-31 while current) and, for the days no period covers (before the first, between two, after the last, or every day for a product without any), products.unit_cost, the current cost; is_fallback marks those. COGS of a sale = units x the standard cost in effect on the order date; stock is valued at the cost of the day.
-- order_by: sku, valid_from
-- test: { unique: [sku, valid_from] }
WITH periods AS (
    SELECT
        sku,
        coalesce(valid_from, DATE '1900-01-01') AS valid_from,
        coalesce(valid_to, DATE '9999-12-31') AS valid_to,
        CAST(standard_cost AS DECIMAL(18, 2)) AS standard_cost
    FROM {{ ref("standard_costs") }}
),
gaps AS (
    -- before each period (from the end of the previous one)
    SELECT
        p.sku,
        coalesce(lag(c.valid_to) OVER (PARTITION BY p.sku ORDER BY c.valid_from) + 1, DATE '1900-01-01') AS valid_from,
        coalesce(c.valid_from - 1, DATE '9999-12-31') AS valid_to,
        CAST(p.unit_cost AS DECIMAL(18, 2)) AS standard_cost
    FROM {{ ref("products") }} AS p
    LEFT JOIN periods AS c ON c.sku = p.sku
    UNION ALL
    -- after the last period
    SELECT p.sku, max(c.valid_to) + 1, DATE '9999-12-31', CAST(p.unit_cost AS DECIMAL(18, 2))
    FROM {{ ref("products") }} AS p
    JOIN periods AS c ON c.sku = p.sku
    GROUP BY p.sku, p.unit_cost
    HAVING max(c.valid_to) < DATE '9999-12-31'
)
SELECT sku, valid_from, valid_to, standard_cost, false AS is_fallback FROM periods
UNION ALL
SELECT sku, valid_from, valid_to, standard_cost, true FROM gaps WHERE valid_from <= valid_to
