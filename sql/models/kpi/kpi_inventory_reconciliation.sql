-- materialized: table
-- description: Month-end snapshots reconciled with the derived stock: one row per snapshot (month_end x product x warehouse) up to the as-of date with counted_on_hand (the snapshot), book_on_hand (fct_stock_levels.on_hand at the end of that day: opening + receipts - shipments), difference = counted - book, difference_cost = difference x the day's standard cost, and is_mismatch = difference <> 0. A snapshot without derived stock has book_on_hand NULL.
-- order_by: month_end, sku, warehouse
-- test: { unique: [month_end, sku, warehouse] }
-- partition_by: year
SELECT
    s.month_end,
    CAST(year(s.month_end) AS INTEGER) AS year,
    s.sku,
    s.warehouse,
    CAST(s.on_hand AS BIGINT) AS counted_on_hand,
    d.on_hand AS book_on_hand,
    CAST(s.on_hand - d.on_hand AS BIGINT) AS difference,
    CAST((s.on_hand - d.on_hand) * d.standard_cost AS DECIMAL(18, 2)) AS difference_cost,
    coalesce(s.on_hand <> d.on_hand, true) AS is_mismatch
FROM {{ ref("month_end_snapshots") }} AS s
LEFT JOIN {{ ref("fct_stock_levels") }} AS d
    ON d.sku = s.sku AND d.warehouse = s.warehouse AND s.month_end BETWEEN d.valid_from AND d.valid_to
WHERE s.month_end <= DATE '{{ as_of }}'
