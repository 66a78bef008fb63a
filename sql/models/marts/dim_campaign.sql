-- materialized: table
-- description: One row per marketing campaign: name, channel, start and end date, budget (USD), days = end - start + 1, attribution_end = end_date + 30 days (orders attributed to it are placed from start to attribution_end), total spend (sum of daily spend, USD), baseline_start/baseline_end = the same number of days right before the start (for uplift).
-- order_by: campaign_id
-- test: { unique: [campaign_id] }
SELECT
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.start_date,
    c.end_date,
    CAST(c.end_date - c.start_date + 1 AS INTEGER) AS days,
    CAST(c.end_date + INTERVAL 30 DAY AS DATE) AS attribution_end,
    CAST(c.start_date - CAST(c.end_date - c.start_date + 1 AS INTEGER) AS DATE) AS baseline_start,
    CAST(c.start_date - 1 AS DATE) AS baseline_end,
    CAST(c.budget AS DECIMAL(18, 2)) AS budget,
    CAST(coalesce(s.spend, 0) AS DECIMAL(18, 2)) AS spend
FROM {{ ref("campaigns") }} AS c
LEFT JOIN (
    SELECT campaign_id, sum(spend) AS spend FROM {{ ref("campaign_spend") }} GROUP BY campaign_id
) AS s ON s.campaign_id = c.campaign_id
