-- A list axis counted by its kept values' bits (crosstab_bits.sql): the places of a pattern:
-- __SOURCE___bits its kept values' bits ($__SOURCE___masks: each kept value's, in axis order),
-- __SOURCE___rest whether it holds another value (one past __TOP__) and __SOURCE___none an
-- empty list (the place of __EMPTY__, else one past __TOP__), each place once. An item's
-- pattern has an empty list or values; a letter's (its items' patterns or'ed,
-- _letter_patterns.sql) may have both. Expanded by queries.shape_sql for __ROW_PLACE__ /
-- __COL_PLACE__.
unnest(
    list_distinct(
        list_concat(
            case
                when __SOURCE___none
                    then [coalesce(list_position(__TOP__::varchar[], __EMPTY__::varchar), len(__TOP__) + 1)]
                else []
            end,
            list_filter(
                range(1, len(__TOP__) + 1),
                lambda place: (__SOURCE___bits & ($__SOURCE___masks::ubigint[])[place]) <> 0
            ),
            case when __SOURCE___rest then [len(__TOP__) + 1] else [] end
        )
    )
)
