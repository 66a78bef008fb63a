-- materialized: table
-- description: One row per product with its place in the category tree (category > subcategory > sku; category_path = 'Category / Subcategory'), list price and current standard cost (USD), and list margin pct = (list_price - current_cost) / list_price.
-- order_by: sku
-- test: { unique: [sku] }
SELECT
    sku,
    product_name,
    category,
    subcategory,
    category || ' / ' || coalesce(subcategory, '(none)') AS category_path,
    list_price,
    unit_cost AS current_standard_cost,
    CAST(CASE WHEN list_price > 0 THEN (list_price - unit_cost) / list_price END AS DECIMAL(9, 4))
        AS list_margin_pct
FROM {{ ref("products") }}
