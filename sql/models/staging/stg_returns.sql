-- materialized: table
-- description: Returns and exchanges of loaded order lines, valued like the sale they reverse: returned_net_local = round(quantity x unit_price x (100 - discount_pct) / 100, 2); returned_revenue = round(returned_net_local x rate_to_usd of the original order month, 2) USD; returned_cogs = quantity x the standard cost of the sale; processing_days = processed_on - return_date (NULL while pending). Returns of lines that did not load are left out.
-- order_by: return_id
-- test: { unique: [return_id] }
SELECT
    r.return_id,
    r.order_id,
    r.line_no,
    r.return_date,
    CAST(date_trunc('month', r.return_date) AS DATE) AS return_month,
    r.quantity AS returned_units,
    r.reason,
    r.return_type,
    r.processed_on,
    CAST(r.processed_on - r.return_date AS INTEGER) AS processing_days,
    CAST(round(r.quantity * l.unit_price * (100 - l.discount_pct) * 0.01, 2)
        AS DECIMAL(18, 2)) AS returned_net_local,
    CAST(round(round(r.quantity * l.unit_price * (100 - l.discount_pct) * 0.01, 2)
        * o.rate_to_usd, 2) AS DECIMAL(18, 2)) AS returned_revenue,
    CAST(r.quantity * l.standard_cost AS DECIMAL(18, 2)) AS returned_cogs
FROM {{ ref("returns") }} AS r
JOIN {{ ref("stg_order_lines") }} AS l ON l.order_id = r.order_id AND l.line_no = r.line_no
JOIN {{ ref("stg_orders") }} AS o ON o.order_id = r.order_id
