-- materialized: table
-- description: Campaign performance per campaign. spend = sum of its daily spend (USD); attributed orders = non-cancelled orders with its campaign_id (placed from the start to 30 days after the end); attributed_revenue = their sales net revenue (USD, net of tax and discounts), attributed_gross_profit = attributed_revenue - their COGS; roas = attributed_revenue / spend; roi = (attributed_gross_profit - spend) / spend (both NULL without spend); new_customers = customers whose first order ever is attributed to the campaign, cac = spend / new_customers. Funnel: leads (its leads), converted_leads (matched to a customer), opportunities (its opportunities), won_opportunities, orders; lead_to_opportunity_pct = opportunities / leads, opportunity_win_pct = won_opportunities / opportunities, lead_to_customer_pct = converted_leads / leads. Uplift: baseline_daily_revenue = company net sales per day in the baseline window (as many days as the campaign right before its start), campaign_daily_revenue = per day from start to end, uplift_pct = campaign_daily_revenue / baseline_daily_revenue - 1, incremental_revenue = (campaign_daily_revenue - baseline_daily_revenue) x days. Fractions as DECIMAL(18,4).
-- order_by: campaign_id
-- test: { unique: [campaign_id] }
WITH attributed AS (
    SELECT o.campaign_id, count(*) AS orders, count(DISTINCT o.customer_id) AS customers,
        sum(o.net_revenue) AS revenue, sum(o.gross_profit) AS gross_profit
    FROM {{ ref("fct_orders") }} AS o
    JOIN {{ ref("dim_campaign") }} AS c
        ON c.campaign_id = o.campaign_id
        AND o.order_date BETWEEN c.start_date AND c.attribution_end
    WHERE NOT o.is_cancelled
    GROUP BY ALL
),
first_orders AS (
    SELECT customer_id, campaign_id
    FROM {{ ref("fct_orders") }}
    WHERE NOT is_cancelled
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY order_date, order_id) = 1
),
acquired AS (
    SELECT campaign_id, count(*) AS new_customers FROM first_orders WHERE campaign_id IS NOT NULL GROUP BY ALL
),
lead_counts AS (
    SELECT campaign_id, count(*) AS leads, count(customer_id) AS converted_leads
    FROM {{ ref("leads") }}
    GROUP BY ALL
),
opps AS (
    SELECT campaign_id, count(*) AS opportunities, count(*) FILTER (WHERE status = 'won') AS won_opportunities
    FROM {{ ref("opportunities") }}
    WHERE campaign_id IS NOT NULL
    GROUP BY ALL
),
daily AS (
    SELECT order_date, sum(net_revenue) AS revenue
    FROM {{ ref("fct_order_lines") }}
    GROUP BY ALL
),
uplift AS (
    SELECT
        c.campaign_id,
        coalesce(sum(d.revenue) FILTER (WHERE d.order_date BETWEEN c.start_date AND c.end_date), 0) AS campaign_revenue,
        coalesce(sum(d.revenue) FILTER (WHERE d.order_date BETWEEN c.baseline_start AND c.baseline_end), 0) AS baseline_revenue
    FROM {{ ref("dim_campaign") }} AS c
    LEFT JOIN daily AS d ON d.order_date BETWEEN c.baseline_start AND c.end_date
    GROUP BY ALL
),
joined AS (
    SELECT
        c.campaign_id, c.campaign_name, c.channel, c.start_date, c.end_date, c.attribution_end, c.days,
        c.budget, c.spend,
        coalesce(a.orders, 0) AS orders,
        coalesce(a.customers, 0) AS customers,
        CAST(coalesce(a.revenue, 0) AS DECIMAL(18, 2)) AS attributed_revenue,
        CAST(coalesce(a.gross_profit, 0) AS DECIMAL(18, 2)) AS attributed_gross_profit,
        coalesce(n.new_customers, 0) AS new_customers,
        coalesce(l.leads, 0) AS leads,
        coalesce(l.converted_leads, 0) AS converted_leads,
        coalesce(o.opportunities, 0) AS opportunities,
        coalesce(o.won_opportunities, 0) AS won_opportunities,
        u.campaign_revenue / c.days AS campaign_daily_revenue,
        u.baseline_revenue / c.days AS baseline_daily_revenue
    FROM {{ ref("dim_campaign") }} AS c
    LEFT JOIN attributed AS a ON a.campaign_id = c.campaign_id
    LEFT JOIN acquired AS n ON n.campaign_id = c.campaign_id
    LEFT JOIN lead_counts AS l ON l.campaign_id = c.campaign_id
    LEFT JOIN opps AS o ON o.campaign_id = c.campaign_id
    LEFT JOIN uplift AS u ON u.campaign_id = c.campaign_id
)
SELECT
    campaign_id, campaign_name, channel, start_date, end_date, attribution_end, days, budget, spend,
    CAST(orders AS BIGINT) AS orders,
    CAST(customers AS BIGINT) AS customers,
    attributed_revenue,
    attributed_gross_profit,
    CAST(CASE WHEN spend > 0 THEN attributed_revenue / spend END AS DECIMAL(18, 4)) AS roas,
    CAST(CASE WHEN spend > 0 THEN (attributed_gross_profit - spend) / spend END AS DECIMAL(18, 4)) AS roi,
    CAST(new_customers AS BIGINT) AS new_customers,
    CAST(CASE WHEN new_customers > 0 THEN spend / new_customers END AS DECIMAL(18, 2)) AS cac,
    CAST(leads AS BIGINT) AS leads,
    CAST(converted_leads AS BIGINT) AS converted_leads,
    CAST(opportunities AS BIGINT) AS opportunities,
    CAST(won_opportunities AS BIGINT) AS won_opportunities,
    CAST(CASE WHEN leads > 0 THEN opportunities / leads END AS DECIMAL(18, 4)) AS lead_to_opportunity_pct,
    CAST(CASE WHEN opportunities > 0 THEN won_opportunities / opportunities END AS DECIMAL(18, 4)) AS opportunity_win_pct,
    CAST(CASE WHEN leads > 0 THEN converted_leads / leads END AS DECIMAL(18, 4)) AS lead_to_customer_pct,
    CAST(baseline_daily_revenue AS DECIMAL(18, 2)) AS baseline_daily_revenue,
    CAST(campaign_daily_revenue AS DECIMAL(18, 2)) AS campaign_daily_revenue,
    CAST(CASE WHEN baseline_daily_revenue > 0 THEN campaign_daily_revenue / baseline_daily_revenue - 1 END
        AS DECIMAL(18, 4)) AS uplift_pct,
    CAST((campaign_daily_revenue - baseline_daily_revenue) * days AS DECIMAL(18, 2)) AS incremental_revenue
FROM joined
