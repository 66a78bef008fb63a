-- materialized: table
-- description: One row per order line of every order that is not cancelled, in the home currency (USD). Revenue is booked on the order date. net_local = round(quantity * unit_price * (100 - discount_pct) / 100, 2) in the order's currency; net_revenue = round(net_local * rate_to_usd of the order month, 2), net of tax and discounts; cogs = quantity * unit_cost; gross_profit = net_revenue - cogs. Region and segment are the customer's.
WITH lines AS (
    SELECT
        o.order_id,
        l.line_no,
        o.order_date,
        CAST(date_trunc('month', o.order_date) AS DATE) AS month,
        o.channel,
        o.ship_mode,
        o.status,
        o.currency,
        o.customer_id,
        coalesce(c.region, 'Unknown') AS region,
        c.segment,
        o.rep_id,
        l.sku,
        p.category,
        p.subcategory,
        l.quantity AS units,
        l.unit_price,
        coalesce(l.discount_pct, 0) AS discount_pct,
        -- x * 0.01 keeps DECIMAL arithmetic (x / 100 would turn into DOUBLE).
        CAST(round(l.quantity * l.unit_price * (100 - coalesce(l.discount_pct, 0)) * 0.01, 2)
            AS DECIMAL(18, 2)) AS net_local,
        fx.rate_to_usd,
        CAST(l.quantity * p.unit_cost AS DECIMAL(18, 2)) AS cogs
    FROM {{ ref("order_lines") }} AS l
    JOIN {{ ref("orders") }} AS o ON o.order_id = l.order_id
    JOIN {{ ref("products") }} AS p ON p.sku = l.sku
    LEFT JOIN {{ ref("customers") }} AS c ON c.customer_id = o.customer_id
    LEFT JOIN {{ ref("fx_rates") }} AS fx
        ON fx.month = CAST(date_trunc('month', o.order_date) AS DATE) AND fx.currency = o.currency
    WHERE o.status <> 'cancelled'
)
SELECT
    * EXCLUDE (cogs),
    CAST(round(net_local * rate_to_usd, 2) AS DECIMAL(18, 2)) AS net_revenue,
    cogs,
    CAST(round(net_local * rate_to_usd, 2) AS DECIMAL(18, 2)) - cogs AS gross_profit
FROM lines
