-- materialized: table
-- description: Every loaded order line whose order loaded (all statuses), valued: gross_local = round(quantity x unit_price, 2) and net_local = round(quantity x unit_price x (100 - discount_pct) / 100, 2) in the order currency; gross_revenue and net_revenue = round(local x rate_to_usd of the order month, 2) in USD (net of tax and discounts); discount_amount = gross_revenue - net_revenue; standard_cost = the product's standard cost in effect on the order date (stg_standard_costs: products.unit_cost, the current cost, when no finance period covers it); cogs = quantity x standard_cost.
-- order_by: order_id, line_no
-- test: { unique: [order_id, line_no] }
WITH lines AS (
    SELECT
        l.order_id,
        l.line_no,
        l.sku,
        p.category,
        p.subcategory,
        l.quantity,
        l.unit_price,
        CAST(coalesce(l.discount_pct, 0) AS DECIMAL(5, 2)) AS discount_pct,
        CAST(round(l.quantity * l.unit_price, 2) AS DECIMAL(18, 2)) AS gross_local,
        -- x * 0.01 keeps DECIMAL arithmetic (x / 100 would turn into DOUBLE).
        CAST(round(l.quantity * l.unit_price * (100 - coalesce(l.discount_pct, 0)) * 0.01, 2)
            AS DECIMAL(18, 2)) AS net_local,
        o.rate_to_usd,
        CAST(coalesce(sc.standard_cost, p.unit_cost) AS DECIMAL(18, 2)) AS standard_cost
    FROM {{ ref("order_lines") }} AS l
    JOIN {{ ref("stg_orders") }} AS o ON o.order_id = l.order_id
    JOIN {{ ref("products") }} AS p ON p.sku = l.sku
    LEFT JOIN {{ ref("stg_standard_costs") }} AS sc
        ON sc.sku = l.sku AND o.order_date BETWEEN sc.valid_from AND sc.valid_to
)
SELECT
    * EXCLUDE (rate_to_usd),
    CAST(round(gross_local * rate_to_usd, 2) AS DECIMAL(18, 2)) AS gross_revenue,
    CAST(round(net_local * rate_to_usd, 2) AS DECIMAL(18, 2)) AS net_revenue,
    CAST(round(gross_local * rate_to_usd, 2) - round(net_local * rate_to_usd, 2)
        AS DECIMAL(18, 2)) AS discount_amount,
    CAST(quantity * standard_cost AS DECIMAL(18, 2)) AS cogs
FROM lines
