-- materialized: table
-- description: Every loaded order header (latest version, all statuses) with its month, the customer's region and segment, the month's FX rate to USD (rate_to_usd of the order month and currency) and the selling rep's team and region on the order date (from stg_reps validity periods).
-- order_by: order_id
-- test: { unique: [order_id] }
SELECT
    o.order_id,
    o.order_date,
    CAST(date_trunc('month', o.order_date) AS DATE) AS month,
    o.promised_date,
    o.ship_date,
    o.ship_mode,
    o.channel,
    o.status,
    o.status = 'cancelled' AS is_cancelled,
    o.currency,
    fx.rate_to_usd,
    o.customer_id,
    coalesce(c.region, 'Unknown') AS region,
    c.segment,
    o.rep_id,
    r.team AS rep_team,
    r.region AS rep_region,
    nullif(o.campaign_id, '') AS campaign_id,
    o.warehouse
FROM {{ ref("orders") }} AS o
LEFT JOIN {{ ref("customers") }} AS c ON c.customer_id = o.customer_id
LEFT JOIN {{ ref("fx_rates") }} AS fx
    ON fx.month = CAST(date_trunc('month', o.order_date) AS DATE) AND fx.currency = o.currency
LEFT JOIN {{ ref("stg_reps") }} AS r
    ON r.rep_id = o.rep_id AND o.order_date BETWEEN r.valid_from AND r.valid_to
