-- materialized: table
-- description: Standard cost per product and validity period (USD per unit): valid_to = 9999-12-31 while current. COGS of a sale = units x the standard cost in effect on the order date.
-- order_by: sku, valid_from
SELECT
    sku,
    coalesce(valid_from, DATE '1900-01-01') AS valid_from,
    coalesce(valid_to, DATE '9999-12-31') AS valid_to,
    CAST(standard_cost AS DECIMAL(18, 2)) AS standard_cost
FROM {{ ref("standard_costs") }}
