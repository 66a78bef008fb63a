-- materialized: table
-- description: Orders against invoices, one row per discrepancy: order_not_invoiced = a shipped or completed order with loaded lines and no invoice; invoice_without_order = an invoice whose order did not load (rejected or missing header); invoice_for_open_order = an invoice of an order that is open or cancelled in its latest version; amount_differs = invoice net_amount <> the sum of the order's loaded line nets (net_local, order currency); currency_differs = invoice currency <> order currency. Amounts in the order or invoice currency; difference = invoice - order.
-- order_by: issue, order_id, invoice_id
-- test: { unique: [issue, order_id, invoice_id] }
WITH lines AS (
    SELECT order_id, count(*) AS lines, sum(net_local) AS net_local
    FROM {{ ref("stg_order_lines") }}
    GROUP BY ALL
),
o AS (
    SELECT o.order_id, o.status, o.currency, o.order_date, l.lines, l.net_local
    FROM {{ ref("stg_orders") }} AS o
    LEFT JOIN lines AS l ON l.order_id = o.order_id
),
pairs AS (
    SELECT
        coalesce(o.order_id, i.order_id) AS order_id,
        i.invoice_id, o.status AS order_status, o.order_date, i.invoice_date,
        o.currency AS order_currency, i.currency AS invoice_currency,
        o.lines, o.net_local AS order_net_local, i.net_amount AS invoice_net_amount,
        o.order_id IS NOT NULL AS order_loaded
    FROM o
    FULL JOIN {{ ref("invoices") }} AS i ON i.order_id = o.order_id
),
issues AS (
    SELECT 'order_not_invoiced' AS issue, * FROM pairs
    WHERE invoice_id IS NULL AND order_status IN ('shipped', 'completed') AND lines > 0
    UNION ALL
    SELECT 'invoice_without_order', * FROM pairs WHERE invoice_id IS NOT NULL AND NOT order_loaded
    UNION ALL
    SELECT 'invoice_for_open_order', * FROM pairs
    WHERE invoice_id IS NOT NULL AND order_loaded AND order_status NOT IN ('shipped', 'completed')
    UNION ALL
    SELECT 'amount_differs', * FROM pairs
    WHERE invoice_id IS NOT NULL AND order_loaded AND coalesce(order_net_local, 0) <> coalesce(invoice_net_amount, 0)
    UNION ALL
    SELECT 'currency_differs', * FROM pairs
    WHERE invoice_id IS NOT NULL AND order_loaded AND order_currency IS DISTINCT FROM invoice_currency
)
SELECT
    issue, order_id, invoice_id, order_status, order_date, invoice_date, order_currency, invoice_currency,
    CAST(order_net_local AS DECIMAL(18, 2)) AS order_net_local,
    CAST(invoice_net_amount AS DECIMAL(18, 2)) AS invoice_net_amount,
    CAST(coalesce(invoice_net_amount, 0) - coalesce(order_net_local, 0) AS DECIMAL(18, 2)) AS difference
FROM issues
