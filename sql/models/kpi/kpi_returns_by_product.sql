-- materialized: table
-- description: Return rates per product x sale month, attributing every return to the month of the original sale (the order date): units_sold and lines_sold = non-cancelled order lines booked in the month; units_returned = units of those lines returned (whenever the return is dated, up to the as-of date); return_rate = units_returned / units_sold; returned_revenue (USD); the returned units by reason (defective, damaged, wrong_item, not_as_described, changed_mind) and exchanges. Fractions as DECIMAL(18,4).
-- order_by: sku, sale_month
-- test: { unique: [sku, sale_month] }
-- partition_by: year
WITH sold AS (
    SELECT sku, any_value(category) AS category, month AS sale_month, sum(units) AS units_sold, count(*) AS lines_sold
    FROM {{ ref("fct_order_lines") }}
    GROUP BY sku, month
),
ret AS (
    SELECT
        sku, sale_month,
        count(*) AS returns,
        sum(returned_units) AS units_returned,
        sum(returned_revenue) AS returned_revenue,
        sum(returned_units) FILTER (WHERE reason = 'defective') AS defective_units,
        sum(returned_units) FILTER (WHERE reason = 'damaged') AS damaged_units,
        sum(returned_units) FILTER (WHERE reason = 'wrong_item') AS wrong_item_units,
        sum(returned_units) FILTER (WHERE reason = 'not_as_described') AS not_as_described_units,
        sum(returned_units) FILTER (WHERE reason = 'changed_mind') AS changed_mind_units,
        count(*) FILTER (WHERE return_type = 'exchange') AS exchanges
    FROM {{ ref("fct_returns") }}
    WHERE return_date <= DATE '{{ as_of }}'
    GROUP BY ALL
)
SELECT
    s.sku,
    s.category,
    s.sale_month,
    CAST(year(s.sale_month) AS INTEGER) AS year,
    CAST(s.lines_sold AS BIGINT) AS lines_sold,
    CAST(s.units_sold AS BIGINT) AS units_sold,
    CAST(coalesce(r.returns, 0) AS BIGINT) AS returns,
    CAST(coalesce(r.units_returned, 0) AS BIGINT) AS units_returned,
    CAST(coalesce(r.units_returned, 0) / NULLIF(s.units_sold, 0) AS DECIMAL(18, 4)) AS return_rate,
    CAST(coalesce(r.returned_revenue, 0) AS DECIMAL(18, 2)) AS returned_revenue,
    CAST(coalesce(r.defective_units, 0) AS BIGINT) AS defective_units,
    CAST(coalesce(r.damaged_units, 0) AS BIGINT) AS damaged_units,
    CAST(coalesce(r.wrong_item_units, 0) AS BIGINT) AS wrong_item_units,
    CAST(coalesce(r.not_as_described_units, 0) AS BIGINT) AS not_as_described_units,
    CAST(coalesce(r.changed_mind_units, 0) AS BIGINT) AS changed_mind_units,
    CAST(coalesce(r.exchanges, 0) AS BIGINT) AS exchanges
FROM sold AS s
LEFT JOIN ret AS r ON r.sku = s.sku AND r.sale_month = s.sale_month
