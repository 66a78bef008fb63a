-- materialized: table
-- description: Marketing per month x campaign channel (online, offline; 'All' = both): spend = campaign spend dated in the month (USD); attributed_revenue and attributed_gross_profit = sales net revenue and gross profit of the non-cancelled orders booked in the month with a campaign of that channel; total_revenue = all sales of the month; attributed_share = attributed_revenue / total_revenue; roas = attributed_revenue / spend (NULL without spend); leads created in the month. Fractions as DECIMAL(18,4).
-- order_by: month, channel
-- test: { unique: [month, channel] }
-- partition_by: year
WITH spend AS (
    SELECT CAST(date_trunc('month', s.spend_date) AS DATE) AS month, c.channel, sum(s.spend) AS spend
    FROM {{ ref("campaign_spend") }} AS s
    JOIN {{ ref("campaigns") }} AS c ON c.campaign_id = s.campaign_id
    GROUP BY ALL
),
attributed AS (
    SELECT o.month, c.channel, sum(o.net_revenue) AS revenue, sum(o.gross_profit) AS gross_profit, count(*) AS orders
    FROM {{ ref("fct_orders") }} AS o
    JOIN {{ ref("campaigns") }} AS c ON c.campaign_id = o.campaign_id
    WHERE NOT o.is_cancelled
    GROUP BY ALL
),
leads AS (
    SELECT CAST(date_trunc('month', l.created_on) AS DATE) AS month, c.channel, count(*) AS leads
    FROM {{ ref("leads") }} AS l
    JOIN {{ ref("campaigns") }} AS c ON c.campaign_id = l.campaign_id
    GROUP BY ALL
),
totals AS (
    SELECT month, sum(net_revenue) AS total_revenue
    FROM {{ ref("fct_orders") }}
    WHERE NOT is_cancelled
    GROUP BY ALL
),
keys AS (
    SELECT month, channel FROM spend UNION SELECT month, channel FROM attributed UNION SELECT month, channel FROM leads
),
agg AS (
    SELECT
        k.month, coalesce(k.channel, 'All') AS channel,
        coalesce(sum(s.spend), 0) AS spend,
        coalesce(sum(a.revenue), 0) AS attributed_revenue,
        coalesce(sum(a.gross_profit), 0) AS attributed_gross_profit,
        coalesce(sum(a.orders), 0) AS attributed_orders,
        coalesce(sum(l.leads), 0) AS leads
    FROM keys AS k
    LEFT JOIN spend AS s ON s.month = k.month AND s.channel = k.channel
    LEFT JOIN attributed AS a ON a.month = k.month AND a.channel = k.channel
    LEFT JOIN leads AS l ON l.month = k.month AND l.channel = k.channel
    GROUP BY GROUPING SETS ((k.month, k.channel), (k.month))
)
SELECT
    a.month,
    CAST(year(a.month) AS INTEGER) AS year,
    a.channel,
    CAST(a.spend AS DECIMAL(18, 2)) AS spend,
    CAST(a.attributed_orders AS BIGINT) AS attributed_orders,
    CAST(a.attributed_revenue AS DECIMAL(18, 2)) AS attributed_revenue,
    CAST(a.attributed_gross_profit AS DECIMAL(18, 2)) AS attributed_gross_profit,
    CAST(coalesce(t.total_revenue, 0) AS DECIMAL(18, 2)) AS total_revenue,
    CAST(CASE WHEN t.total_revenue > 0 THEN a.attributed_revenue / t.total_revenue END AS DECIMAL(18, 4)) AS attributed_share,
    CAST(CASE WHEN a.spend > 0 THEN a.attributed_revenue / a.spend END AS DECIMAL(18, 4)) AS roas,
    CAST(a.leads AS BIGINT) AS leads
FROM agg AS a
LEFT JOIN totals AS t ON t.month = a.month
