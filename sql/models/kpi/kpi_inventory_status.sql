-- materialized: table
-- description: Stock position per product x warehouse on the as-of date, with alerts. on_hand = derived end-of-day stock (fct_stock_levels); over the var.demand_window_days (default 90) days up to the as-of date (window_days = those with stock data): avg_daily_demand = units shipped / window_days, demand_stddev = population standard deviation of the daily shipped units; days_of_cover = on_hand / avg_daily_demand (NULL without demand); lead_time_days = var.lead_time_days (default 14); safety_stock = ceil(var.service_level_z (default 1.65) x demand_stddev x sqrt(lead_time_days)); reorder_point = ceil(avg_daily_demand x lead_time_days + safety_stock); below_reorder_point = on_hand <= reorder_point; is_overstock = days_of_cover > var.overstock_days (default 180), or stock without demand; is_slow_mover = units shipped in the window in the lowest fifth of all product-warehouses (percent rank <= 0.2); stockout_days_window = days in the window ending at 0; inventory_cost = on_hand x standard cost.
-- order_by: sku, warehouse
-- test: { unique: [sku, warehouse] }
WITH params AS (
    SELECT
        CAST({{ var.demand_window_days | default(value="90") }} AS INTEGER) AS window_days,
        CAST({{ var.lead_time_days | default(value="14") }} AS DOUBLE) AS lead_time_days,
        CAST({{ var.service_level_z | default(value="1.65") }} AS DOUBLE) AS z,
        CAST({{ var.overstock_days | default(value="180") }} AS DOUBLE) AS overstock_days
),
bounds AS (
    SELECT CAST(DATE '{{ as_of }}' - window_days + 1 AS DATE) AS window_start, DATE '{{ as_of }}' AS window_end
    FROM params
),
covered AS (
    SELECT
        l.sku, l.warehouse,
        sum(least(l.valid_to, b.window_end) - greatest(l.valid_from, b.window_start) + 1) AS window_days,
        sum(least(l.valid_to, b.window_end) - greatest(l.valid_from, b.window_start) + 1)
            FILTER (WHERE l.is_stockout) AS stockout_days_window
    FROM {{ ref("fct_stock_levels") }} AS l, bounds AS b
    WHERE l.valid_from <= b.window_end AND l.valid_to >= b.window_start
    GROUP BY ALL
),
daily AS (
    SELECT s.sku, s.warehouse, s.ship_date, sum(s.units) AS units
    FROM {{ ref("fct_shipments") }} AS s, bounds AS b
    WHERE s.ship_date BETWEEN b.window_start AND b.window_end
    GROUP BY ALL
),
demand AS (
    SELECT sku, warehouse, sum(units) AS window_units, sum(units * units) AS window_squares
    FROM daily
    GROUP BY ALL
),
cur AS (
    SELECT sku, warehouse, on_hand, inventory_cost
    FROM {{ ref("fct_stock_levels") }}
    WHERE DATE '{{ as_of }}' BETWEEN valid_from AND valid_to
),
measured AS (
    SELECT
        c.sku, c.warehouse, c.on_hand, c.inventory_cost,
        coalesce(d.window_units, 0) AS window_units,
        coalesce(d.window_units, 0) / w.window_days AS avg_daily_demand,
        sqrt(greatest(coalesce(d.window_squares, 0) / w.window_days
            - pow(coalesce(d.window_units, 0) / w.window_days, 2), 0)) AS demand_stddev,
        coalesce(w.stockout_days_window, 0) AS stockout_days_window,
        p.lead_time_days, p.z, p.overstock_days
    FROM cur AS c
    CROSS JOIN params AS p
    JOIN covered AS w ON w.sku = c.sku AND w.warehouse = c.warehouse
    LEFT JOIN demand AS d ON d.sku = c.sku AND d.warehouse = c.warehouse
)
SELECT
    m.sku,
    pr.category,
    m.warehouse,
    CAST(m.on_hand AS BIGINT) AS on_hand,
    CAST(m.inventory_cost AS DECIMAL(18, 2)) AS inventory_cost,
    CAST(m.window_units AS BIGINT) AS window_units_shipped,
    CAST(m.avg_daily_demand AS DECIMAL(18, 4)) AS avg_daily_demand,
    CAST(m.demand_stddev AS DECIMAL(18, 4)) AS demand_stddev,
    CAST(CASE WHEN m.avg_daily_demand > 0 THEN m.on_hand / m.avg_daily_demand END AS DECIMAL(18, 2)) AS days_of_cover,
    CAST(m.lead_time_days AS INTEGER) AS lead_time_days,
    CAST(ceil(m.z * m.demand_stddev * sqrt(m.lead_time_days)) AS BIGINT) AS safety_stock,
    CAST(ceil(m.avg_daily_demand * m.lead_time_days + ceil(m.z * m.demand_stddev * sqrt(m.lead_time_days))) AS BIGINT)
        AS reorder_point,
    m.on_hand <= ceil(m.avg_daily_demand * m.lead_time_days + ceil(m.z * m.demand_stddev * sqrt(m.lead_time_days)))
        AS below_reorder_point,
    CASE WHEN m.avg_daily_demand > 0 THEN m.on_hand / m.avg_daily_demand > m.overstock_days ELSE m.on_hand > 0 END
        AS is_overstock,
    percent_rank() OVER (ORDER BY m.window_units) <= 0.2 AS is_slow_mover,
    CAST(m.stockout_days_window AS BIGINT) AS stockout_days_window
FROM measured AS m
LEFT JOIN {{ ref("products") }} AS pr ON pr.sku = m.sku
