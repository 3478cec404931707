-- A list axis: one row per place of the item (_places_list.sql), each place once. A list holds
-- a value once, so only the other place (one past __TOP__) can come twice: it is kept where
-- it first comes. Expanded by queries.shape_sql for __ROW_PLACE__ / __COL_PLACE__.
unnest(
    list_filter(
        __SOURCE__,
        lambda place, i: place <= len(__TOP__) or i = list_position(__SOURCE__, len(__TOP__) + 1)
    )
)
