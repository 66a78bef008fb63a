-- materialized: table
-- description: Returns per return month x product category x reason ('All' = every category or reason), returns dated up to the as-of date: returns, units_returned, returned_revenue (USD), exchanges; share_of_units = units_returned / all units returned in the month and category; processed = returns with a processed date, avg_processing_days = mean of processed_on - return_date; pending = not processed yet. Fractions as DECIMAL(18,4).
-- order_by: return_month, category, reason
-- test: { unique: [return_month, category, reason] }
-- partition_by: year
WITH agg AS (
    SELECT
        return_month,
        coalesce(category, 'All') AS category,
        coalesce(reason, 'All') AS reason,
        count(*) AS returns,
        sum(returned_units) AS units_returned,
        sum(returned_revenue) AS returned_revenue,
        count(*) FILTER (WHERE return_type = 'exchange') AS exchanges,
        count(processed_on) AS processed,
        avg(processing_days) AS avg_processing_days
    FROM {{ ref("fct_returns") }}
    WHERE return_date <= DATE '{{ as_of }}'
    GROUP BY GROUPING SETS ((return_month, category, reason), (return_month, category), (return_month, reason), (return_month))
)
SELECT
    return_month, CAST(year(return_month) AS INTEGER) AS year, category, reason,
    CAST(returns AS BIGINT) AS returns,
    CAST(units_returned AS BIGINT) AS units_returned,
    CAST(returned_revenue AS DECIMAL(18, 2)) AS returned_revenue,
    CAST(exchanges AS BIGINT) AS exchanges,
    CAST(units_returned / NULLIF(sum(units_returned) FILTER (WHERE reason <> 'All')
        OVER (PARTITION BY return_month, category), 0) AS DECIMAL(18, 4)) AS share_of_units,
    CAST(processed AS BIGINT) AS processed,
    CAST(returns - processed AS BIGINT) AS pending,
    CAST(avg_processing_days AS DECIMAL(18, 2)) AS avg_processing_days
FROM agg
