-- materialized: table
-- description: Derived stock per day x product x warehouse from the opening stock's date to the as-of date: on_hand = opening_stock.on_hand + receipts received on or before the day - units shipped on or before the day (end of day; returned goods go to quarantine and are not put back). on_hand_start = on hand before the day's moves; is_stockout = on_hand is 0 at the end of the day; standard_cost = the cost in effect that day (products.unit_cost when no period covers it), inventory_cost = on_hand x standard_cost; shipped_cogs = COGS of the units shipped that day (standard cost of their order date).
-- order_by: date_day, sku, warehouse
WITH opening AS (
    SELECT sku, warehouse, min(snapshot_date) AS first_day, sum(on_hand) AS on_hand
    FROM {{ ref("opening_stock") }}
    GROUP BY ALL
),
moves AS (
    SELECT sku, warehouse, received_on AS date_day, sum(quantity) AS received, 0 AS shipped, 0 AS shipped_cogs
    FROM {{ ref("receipts") }}
    WHERE received_on <= DATE '{{ as_of }}'
    GROUP BY ALL
    UNION ALL
    SELECT sku, warehouse, ship_date, 0, sum(units), sum(cogs)
    FROM {{ ref("fct_shipments") }}
    GROUP BY ALL
),
day_moves AS (
    SELECT sku, warehouse, date_day, sum(received) AS received, sum(shipped) AS shipped, sum(shipped_cogs) AS shipped_cogs
    FROM moves
    GROUP BY ALL
),
keys AS (
    SELECT sku, warehouse, min(first_day) AS first_day, sum(on_hand) AS opening
    FROM (
        SELECT sku, warehouse, first_day, on_hand FROM opening
        UNION ALL
        SELECT sku, warehouse, min(date_day), 0 FROM day_moves GROUP BY ALL
    )
    GROUP BY ALL
),
grid AS (
    SELECT k.sku, k.warehouse, k.opening, CAST(unnest(generate_series(k.first_day, DATE '{{ as_of }}', INTERVAL 1 DAY)) AS DATE) AS date_day
    FROM keys AS k
),
running AS (
    SELECT
        g.date_day, g.sku, g.warehouse,
        CAST(coalesce(m.received, 0) AS BIGINT) AS received_units,
        CAST(coalesce(m.shipped, 0) AS BIGINT) AS shipped_units,
        CAST(coalesce(m.shipped_cogs, 0) AS DECIMAL(18, 2)) AS shipped_cogs,
        CAST(g.opening + sum(coalesce(m.received, 0) - coalesce(m.shipped, 0)) OVER (
            PARTITION BY g.sku, g.warehouse ORDER BY g.date_day ROWS UNBOUNDED PRECEDING
        ) AS BIGINT) AS on_hand
    FROM grid AS g
    LEFT JOIN day_moves AS m ON m.sku = g.sku AND m.warehouse = g.warehouse AND m.date_day = g.date_day
)
SELECT
    r.date_day,
    r.sku,
    r.warehouse,
    r.on_hand - r.received_units + r.shipped_units AS on_hand_start,
    r.received_units,
    r.shipped_units,
    r.on_hand,
    r.on_hand <= 0 AS is_stockout,
    CAST(coalesce(sc.standard_cost, p.unit_cost) AS DECIMAL(18, 2)) AS standard_cost,
    CAST(r.on_hand * coalesce(sc.standard_cost, p.unit_cost) AS DECIMAL(18, 2)) AS inventory_cost,
    r.shipped_cogs
FROM running AS r
LEFT JOIN {{ ref("products") }} AS p ON p.sku = r.sku
LEFT JOIN {{ ref("stg_standard_costs") }} AS sc
    ON sc.sku = r.sku AND r.date_day BETWEEN sc.valid_from AND sc.valid_to
