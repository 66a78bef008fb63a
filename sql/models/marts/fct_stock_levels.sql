-- materialized: table
-- description: Derived stock per product x warehouse as intervals of constant end-of-day stock (a compact daily on-hand): every day from valid_from to valid_to ends with on_hand = opening_stock.on_hand + receipts received up to that day - units shipped up to that day (fct_shipments, from the order's warehouse on its ship date; returned goods are quarantined, not put back), up to the as-of date. An interval starts on a day with moves (received_units, shipped_units and shipped_cogs of that day are on the row with is_change_day) or where the standard cost changes; standard_cost is the cost in effect in the interval and inventory_cost = on_hand x standard_cost; on_hand_start = stock before the first day's moves; is_stockout = on_hand <= 0. Expand to one row per day with dim_date (date_day between valid_from and valid_to).
-- order_by: sku, warehouse, valid_from
-- test: { unique: [sku, warehouse, valid_from] }
WITH opening AS (
    SELECT sku, warehouse, min(snapshot_date) AS first_day, sum(on_hand) AS on_hand
    FROM {{ ref("opening_stock") }}
    GROUP BY ALL
),
moves AS (
    SELECT sku, warehouse, received_on AS date_day, quantity AS received, 0 AS shipped, 0 AS shipped_cogs
    FROM {{ ref("receipts") }}
    WHERE received_on <= DATE '{{ as_of }}'
    UNION ALL
    SELECT sku, warehouse, ship_date, 0, units, cogs
    FROM {{ ref("fct_shipments") }}
),
keys AS (
    SELECT sku, warehouse, min(first_day) AS first_day, sum(on_hand) AS opening
    FROM (
        SELECT sku, warehouse, first_day, on_hand FROM opening
        UNION ALL
        SELECT sku, warehouse, min(date_day), 0 FROM moves GROUP BY ALL
    )
    GROUP BY ALL
),
changes AS (
    SELECT sku, warehouse, date_day, sum(received) AS received, sum(shipped) AS shipped,
        sum(shipped_cogs) AS shipped_cogs
    FROM (
        SELECT sku, warehouse, first_day AS date_day, 0 AS received, 0 AS shipped, 0 AS shipped_cogs FROM keys
        UNION ALL
        SELECT * FROM moves
    )
    WHERE date_day <= DATE '{{ as_of }}'
    GROUP BY ALL
),
levels AS (
    SELECT
        c.sku, c.warehouse,
        c.date_day AS change_day,
        CAST(coalesce(lead(c.date_day) OVER w - 1, DATE '{{ as_of }}') AS DATE) AS change_to,
        CAST(c.received AS BIGINT) AS received_units,
        CAST(c.shipped AS BIGINT) AS shipped_units,
        CAST(c.shipped_cogs AS DECIMAL(18, 2)) AS shipped_cogs,
        CAST(k.opening + sum(c.received - c.shipped) OVER (w ROWS UNBOUNDED PRECEDING) AS BIGINT) AS on_hand
    FROM changes AS c
    JOIN keys AS k ON k.sku = c.sku AND k.warehouse = c.warehouse
    WINDOW w AS (PARTITION BY c.sku, c.warehouse ORDER BY c.date_day)
)
SELECT
    l.sku,
    l.warehouse,
    CAST(greatest(l.change_day, sc.valid_from) AS DATE) AS valid_from,
    CAST(least(l.change_to, sc.valid_to) AS DATE) AS valid_to,
    CAST(least(l.change_to, sc.valid_to) - greatest(l.change_day, sc.valid_from) + 1 AS INTEGER) AS days,
    l.on_hand,
    CASE WHEN sc.valid_from <= l.change_day THEN l.on_hand - l.received_units + l.shipped_units ELSE l.on_hand END
        AS on_hand_start,
    sc.valid_from <= l.change_day AS is_change_day,
    CASE WHEN sc.valid_from <= l.change_day THEN l.received_units ELSE 0 END AS received_units,
    CASE WHEN sc.valid_from <= l.change_day THEN l.shipped_units ELSE 0 END AS shipped_units,
    CAST(CASE WHEN sc.valid_from <= l.change_day THEN l.shipped_cogs ELSE 0 END AS DECIMAL(18, 2)) AS shipped_cogs,
    l.on_hand <= 0 AS is_stockout,
    sc.standard_cost,
    CAST(l.on_hand * sc.standard_cost AS DECIMAL(18, 2)) AS inventory_cost
FROM levels AS l
JOIN {{ ref("stg_standard_costs") }} AS sc
    ON sc.sku = l.sku AND sc.valid_from <= l.change_to AND sc.valid_to >= l.change_day
