-- materialized: table
-- description: One row per day from 1 January of the first order's year to 31 December of the as-of year (or, later, the end of the as-of date's fiscal year): ISO week (iso_year, iso_week, week_start = Monday), month (first day), quarter (first day, label YYYY-Qn), year, fiscal year and quarter (the fiscal year starts in the pipeline's fiscal_year_start_month, default 1, and is named by the calendar year it ends in), day of week (1 = Monday), is_weekend, days in month, is_past = on or before the as-of date.
-- order_by: date_day
-- test: { unique: [date_day] }
WITH bounds AS (
    SELECT
        CAST(date_trunc('year', least(coalesce(min(order_date), DATE '{{ as_of }}'), DATE '{{ as_of }}')) AS DATE) AS first_day,
        CAST(greatest(
            date_trunc('year', greatest(coalesce(max(order_date), DATE '{{ as_of }}'), DATE '{{ as_of }}'))
                + INTERVAL 1 YEAR - INTERVAL 1 DAY,
            DATE '{{ fiscal_year_end }}') AS DATE) AS last_day
    FROM {{ ref("orders") }}
),
days AS (
    SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS date_day
    FROM bounds
),
fy AS (
    SELECT CAST({{ fiscal_year_start_month }} AS INTEGER) AS start_month
)
SELECT
    date_day,
    CAST(year(date_day) AS INTEGER) AS year,
    CAST(month(date_day) AS INTEGER) AS month_num,
    CAST(date_trunc('month', date_day) AS DATE) AS month,
    strftime(date_day, '%Y-%m') AS month_label,
    strftime(date_day, '%B') AS month_name,
    CAST(quarter(date_day) AS INTEGER) AS quarter_num,
    CAST(date_trunc('quarter', date_day) AS DATE) AS quarter,
    strftime(date_day, '%Y') || '-Q' || quarter(date_day) AS quarter_label,
    CAST(isoyear(date_day) AS INTEGER) AS iso_year,
    CAST(weekofyear(date_day) AS INTEGER) AS iso_week,
    CAST(date_trunc('week', date_day) AS DATE) AS week_start,
    CAST(isodow(date_day) AS INTEGER) AS day_of_week,
    strftime(date_day, '%A') AS day_name,
    isodow(date_day) >= 6 AS is_weekend,
    CAST(day(last_day(date_day)) AS INTEGER) AS days_in_month,
    CAST(year(date_day) + CASE WHEN fy.start_month > 1 AND month(date_day) >= fy.start_month THEN 1 ELSE 0 END
        AS INTEGER) AS fiscal_year,
    CAST((((month(date_day) - fy.start_month + 12) % 12) // 3) + 1 AS INTEGER) AS fiscal_quarter,
    date_day <= DATE '{{ as_of }}' AS is_past
FROM days, fy
