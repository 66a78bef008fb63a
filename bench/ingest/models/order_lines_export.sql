-- materialized: view
-- description: The loaded order lines with year and month, exported as Parquet partitioned by year/month.
-- partition_by: year, month
-- order_by: order_id, line_no
SELECT *, year(order_date) AS year, month(order_date) AS month
FROM {{ ref("order_lines") }}
