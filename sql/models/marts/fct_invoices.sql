-- materialized: table
-- description: One row per invoice with its order's customer and region, amounts in the invoice currency and in USD at the rate of the invoice month (gross_usd = round(gross_amount x rate_to_usd, 2)), payments up to the as-of date (paid_amount in the invoice currency), open_amount = gross_amount - paid_amount, open_usd = round(open_amount x rate, 2), fully_paid_on = the payment date on which the cumulative payments reached the gross amount (NULL while open), days_to_pay = fully_paid_on - invoice_date, days_past_due = as-of date - due_date for an open invoice (<= 0 not yet due).
-- order_by: invoice_id
-- test: { unique: [invoice_id] }
-- partition_by: year, month
WITH pay AS (
    SELECT
        p.invoice_id, p.payment_date, p.amount,
        sum(p.amount) OVER (PARTITION BY p.invoice_id ORDER BY p.payment_date, p.payment_id) AS cum_paid
    FROM {{ ref("payments") }} AS p
    WHERE p.payment_date <= DATE '{{ as_of }}'
),
paid AS (
    SELECT
        p.invoice_id,
        sum(p.amount) AS paid_amount,
        max(p.payment_date) AS last_payment_date,
        min(p.payment_date) FILTER (WHERE p.cum_paid >= i.gross_amount) AS fully_paid_on
    FROM pay AS p
    JOIN {{ ref("invoices") }} AS i ON i.invoice_id = p.invoice_id
    GROUP BY ALL
),
base AS (
    SELECT
        i.invoice_id, i.order_id, o.customer_id, o.region, o.segment,
        i.invoice_date, CAST(date_trunc('month', i.invoice_date) AS DATE) AS invoice_month, i.due_date,
        i.currency, fx.rate_to_usd,
        i.net_amount, i.tax_amount, i.gross_amount,
        CAST(coalesce(p.paid_amount, 0) AS DECIMAL(18, 2)) AS paid_amount,
        p.last_payment_date, p.fully_paid_on
    FROM {{ ref("invoices") }} AS i
    LEFT JOIN {{ ref("stg_orders") }} AS o ON o.order_id = i.order_id
    LEFT JOIN {{ ref("fx_rates") }} AS fx
        ON fx.month = CAST(date_trunc('month', i.invoice_date) AS DATE) AND fx.currency = i.currency
    LEFT JOIN paid AS p ON p.invoice_id = i.invoice_id
)
SELECT
    invoice_id, order_id, customer_id, region, segment, invoice_date, invoice_month,
    CAST(year(invoice_date) AS INTEGER) AS year, invoice_month AS month, due_date, currency, rate_to_usd,
    net_amount, tax_amount, gross_amount, paid_amount,
    CAST(gross_amount - paid_amount AS DECIMAL(18, 2)) AS open_amount,
    CAST(round(net_amount * rate_to_usd, 2) AS DECIMAL(18, 2)) AS net_usd,
    CAST(round(gross_amount * rate_to_usd, 2) AS DECIMAL(18, 2)) AS gross_usd,
    CAST(round((gross_amount - paid_amount) * rate_to_usd, 2) AS DECIMAL(18, 2)) AS open_usd,
    last_payment_date,
    fully_paid_on,
    CAST(fully_paid_on - invoice_date AS INTEGER) AS days_to_pay,
    CASE WHEN fully_paid_on IS NULL THEN CAST(DATE '{{ as_of }}' - due_date AS INTEGER) END AS days_past_due
FROM base
WHERE invoice_date <= DATE '{{ as_of }}'
