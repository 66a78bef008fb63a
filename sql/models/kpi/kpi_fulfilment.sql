-- materialized: table
-- description: Order fulfilment per order month x ship mode x customer region ('All' = every mode or region), non-cancelled orders. shipped_orders = orders with a ship date (on or before the as-of date); avg_days_to_ship = mean of ship_date - order_date; on_time_orders = shipped on or before the promised date, on_time_rate = on_time_orders / shipped_orders; open_orders = not shipped. Fill rates from the derived stock: a line is filled from stock when the order's warehouse held at least its quantity at the start of the order day; unit_fill_rate = units on filled lines / units ordered; order_fill_rate = orders with every line filled / orders (orders or lines without stock data are left out of the fill rates). Fractions as DECIMAL(18,4).
-- order_by: month, ship_mode, region
-- test: { unique: [month, ship_mode, region] }
-- partition_by: year
WITH lines AS (
    SELECT
        l.order_id,
        l.units,
        d.on_hand IS NOT NULL AS has_stock_data,
        CASE WHEN d.valid_from = l.order_date THEN d.on_hand_start ELSE d.on_hand END >= l.units AS filled
    FROM {{ ref("fct_order_lines") }} AS l
    LEFT JOIN {{ ref("fct_stock_levels") }} AS d
        ON d.sku = l.sku AND d.warehouse = l.warehouse AND l.order_date BETWEEN d.valid_from AND d.valid_to
),
orders AS (
    SELECT
        o.order_id, o.month, coalesce(o.ship_mode, 'Unknown') AS ship_mode, o.region,
        o.ship_date IS NOT NULL AND o.ship_date <= DATE '{{ as_of }}' AS shipped,
        o.days_to_ship, o.is_late,
        sum(l.units) FILTER (WHERE l.has_stock_data) AS units_with_stock_data,
        sum(l.units) FILTER (WHERE l.filled) AS units_filled,
        bool_and(l.filled) FILTER (WHERE l.has_stock_data) AS order_filled
    FROM {{ ref("fct_orders") }} AS o
    LEFT JOIN lines AS l ON l.order_id = o.order_id
    WHERE NOT o.is_cancelled AND o.order_date <= DATE '{{ as_of }}'
    GROUP BY ALL
),
agg AS (
    SELECT
        month, coalesce(ship_mode, 'All') AS ship_mode, coalesce(region, 'All') AS region,
        count(*) AS orders,
        count(*) FILTER (WHERE shipped) AS shipped_orders,
        avg(days_to_ship) FILTER (WHERE shipped) AS avg_days_to_ship,
        count(*) FILTER (WHERE shipped AND NOT is_late) AS on_time_orders,
        count(*) FILTER (WHERE shipped AND is_late) AS late_orders,
        count(*) FILTER (WHERE NOT shipped) AS open_orders,
        sum(units_with_stock_data) AS units_with_stock_data,
        sum(units_filled) AS units_filled,
        count(order_filled) AS orders_with_stock_data,
        count(*) FILTER (WHERE order_filled) AS orders_filled
    FROM orders
    GROUP BY GROUPING SETS ((month, ship_mode, region), (month, ship_mode), (month, region), (month))
)
SELECT
    month, CAST(year(month) AS INTEGER) AS year, ship_mode, region,
    CAST(orders AS BIGINT) AS orders,
    CAST(shipped_orders AS BIGINT) AS shipped_orders,
    CAST(avg_days_to_ship AS DECIMAL(18, 2)) AS avg_days_to_ship,
    CAST(on_time_orders AS BIGINT) AS on_time_orders,
    CAST(late_orders AS BIGINT) AS late_orders,
    CAST(CASE WHEN shipped_orders > 0 THEN on_time_orders / shipped_orders END AS DECIMAL(18, 4)) AS on_time_rate,
    CAST(open_orders AS BIGINT) AS open_orders,
    CAST(CASE WHEN units_with_stock_data > 0 THEN coalesce(units_filled, 0) / units_with_stock_data END
        AS DECIMAL(18, 4)) AS unit_fill_rate,
    CAST(CASE WHEN orders_with_stock_data > 0 THEN orders_filled / orders_with_stock_data END
        AS DECIMAL(18, 4)) AS order_fill_rate
FROM agg
