-- materialized: table
-- description: Days sales outstanding per period (period_type month, quarter or year, up to the as-of period) and company total: credit_sales = gross amounts (incl. tax) of the invoices dated in the period, in USD at the invoice month's rate; receivables = the open balance at the period end (to the as-of date for the current period) of every invoice dated by then, round((gross - payments dated by then) x rate, 2) summed; dso = receivables / credit_sales x days in the period (to date); overdue_receivables = the part of receivables past its due date at the period end, overdue_pct = overdue / receivables. Ratios DECIMAL(18,2) days and DECIMAL(18,4) fractions.
-- order_by: period_type, period_start
-- test: { unique: [period_type, period_start] }
-- partition_by: year
WITH periods AS (
    SELECT DISTINCT 'month' AS period_type, month AS period_start,
        least(CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}') AS period_end
    FROM {{ ref("dim_date") }} WHERE month <= DATE '{{ as_of }}'
    UNION ALL
    SELECT DISTINCT 'quarter', quarter,
        least(CAST(quarter + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}')
    FROM {{ ref("dim_date") }} WHERE quarter <= DATE '{{ as_of }}'
    UNION ALL
    SELECT DISTINCT 'year', CAST(date_trunc('year', date_day) AS DATE),
        least(CAST(date_trunc('year', date_day) + INTERVAL 1 YEAR - INTERVAL 1 DAY AS DATE), DATE '{{ as_of }}')
    FROM {{ ref("dim_date") }} WHERE date_day <= DATE '{{ as_of }}'
),
sales AS (
    SELECT p.period_type, p.period_start, sum(i.gross_usd) AS credit_sales
    FROM periods AS p
    JOIN {{ ref("fct_invoices") }} AS i ON i.invoice_date BETWEEN p.period_start AND p.period_end
    GROUP BY ALL
),
-- invoices still open at each period end, with the payments made by then
open_at AS (
    SELECT p.period_type, p.period_start, p.period_end, i.invoice_id, i.gross_amount, i.rate_to_usd, i.due_date
    FROM periods AS p
    JOIN {{ ref("fct_invoices") }} AS i
        ON i.invoice_date <= p.period_end AND (i.fully_paid_on IS NULL OR i.fully_paid_on > p.period_end)
),
balances AS (
    SELECT
        o.period_type, o.period_start, o.invoice_id, o.due_date, o.period_end,
        round((o.gross_amount - coalesce(sum(pay.amount), 0)) * o.rate_to_usd, 2) AS open_usd
    FROM open_at AS o
    LEFT JOIN {{ ref("payments") }} AS pay
        ON pay.invoice_id = o.invoice_id AND pay.payment_date <= o.period_end
    GROUP BY o.period_type, o.period_start, o.invoice_id, o.due_date, o.period_end, o.gross_amount, o.rate_to_usd
),
ar AS (
    SELECT period_type, period_start,
        sum(open_usd) AS receivables,
        sum(open_usd) FILTER (WHERE due_date < period_end) AS overdue
    FROM balances
    GROUP BY ALL
)
SELECT
    p.period_type,
    p.period_start,
    p.period_end,
    CAST(year(p.period_start) AS INTEGER) AS year,
    CAST(p.period_end - p.period_start + 1 AS INTEGER) AS days,
    CAST(coalesce(s.credit_sales, 0) AS DECIMAL(18, 2)) AS credit_sales,
    CAST(coalesce(a.receivables, 0) AS DECIMAL(18, 2)) AS receivables,
    CAST(CASE WHEN s.credit_sales > 0
        THEN coalesce(a.receivables, 0) / s.credit_sales * (p.period_end - p.period_start + 1) END AS DECIMAL(18, 2)) AS dso,
    CAST(coalesce(a.overdue, 0) AS DECIMAL(18, 2)) AS overdue_receivables,
    CAST(CASE WHEN a.receivables > 0 THEN coalesce(a.overdue, 0) / a.receivables END AS DECIMAL(18, 4)) AS overdue_pct
FROM periods AS p
LEFT JOIN sales AS s ON s.period_type = p.period_type AND s.period_start = p.period_start
LEFT JOIN ar AS a ON a.period_type = p.period_type AND a.period_start = p.period_start
