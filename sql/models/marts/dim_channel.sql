-- materialized: table
-- description: One row per sales channel found on orders (online, retail, distributor, direct, ...), with channel_type = 'digital' for online and 'offline' otherwise, and the number of non-cancelled orders.
-- order_by: channel
-- test: { unique: [channel] }
SELECT
    coalesce(channel, 'unknown') AS channel,
    CASE WHEN channel = 'online' THEN 'digital' ELSE 'offline' END AS channel_type,
    CAST(count(*) FILTER (WHERE NOT is_cancelled) AS BIGINT) AS orders
FROM {{ ref("stg_orders") }}
GROUP BY ALL
