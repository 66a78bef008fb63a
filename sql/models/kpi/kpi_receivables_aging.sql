-- materialized: table
-- description: Open receivables on the as-of date by customer region ('All' = every region) x age band of days past due (as-of date - due_date): 'not due' (<= 0), '1-30', '31-60', '61-90', '90+'; 'All' = every band. invoices = open invoices; open_usd = sum of round((gross - payments up to the as-of date) x rate of the invoice month, 2); share = open_usd / all open receivables of the region. band_order sorts the bands.
-- order_by: region, band_order
-- test: { unique: [region, band_order] }
WITH open_invoices AS (
    SELECT
        coalesce(region, 'Unknown') AS region,
        CASE
            WHEN days_past_due <= 0 THEN 'not due'
            WHEN days_past_due <= 30 THEN '1-30'
            WHEN days_past_due <= 60 THEN '31-60'
            WHEN days_past_due <= 90 THEN '61-90'
            ELSE '90+'
        END AS age_band,
        open_usd
    FROM {{ ref("fct_invoices") }}
    WHERE fully_paid_on IS NULL AND open_amount <> 0
),
agg AS (
    SELECT coalesce(region, 'All') AS region, coalesce(age_band, 'All') AS age_band,
        count(*) AS invoices, sum(open_usd) AS open_usd
    FROM open_invoices
    GROUP BY GROUPING SETS ((region, age_band), (region), (age_band), ())
)
SELECT
    region,
    age_band,
    CAST(CASE age_band WHEN 'not due' THEN 0 WHEN '1-30' THEN 1 WHEN '31-60' THEN 2 WHEN '61-90' THEN 3
        WHEN '90+' THEN 4 ELSE 5 END AS INTEGER) AS band_order,
    CAST(invoices AS BIGINT) AS invoices,
    CAST(open_usd AS DECIMAL(18, 2)) AS open_usd,
    CAST(open_usd / nullif(sum(open_usd) FILTER (WHERE age_band <> 'All') OVER (PARTITION BY region), 0)
        AS DECIMAL(18, 4)) AS share
FROM agg
