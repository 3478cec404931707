-- A list axis's places (crosstab.sql), as a list: the position of each of the item's values
-- (an empty list: __EMPTY__, as in _value_list.sql) among the kept values __TOP__, one past
-- them for any other value (NULL for a NULL value: no place). Expanded by queries.shape_sql
-- for __ROW_PLACES__ / __COL_PLACES__.
list_transform(
    case when len(__SOURCE__) = 0 then [__EMPTY__::varchar] else __SOURCE__ end,
    lambda value: case
        when value is not null then coalesce(list_position(__TOP__, value), len(__TOP__) + 1)
    end
)
