-- reason_by.sql's counts from the reasons' lists: each value's upheld items (value_totals)
-- and each (value, reason)'s (counts), a reason of an item's list unnested (what a warehouse
-- whose reasons share a bit, or have none, needs; _reason_counts_bits.sql is faster).
-- Not materialized: read twice (value_totals, exploded), unfiltered it held 3.7M items' lists
-- (505-546 -> 245-249 ms at 4M items under the dashboard's 512 MB pool; no change filtered).
filtered as not materialized (
    select __COLUMNS__, reasons from item_facts where __FILTERS__ and not overturned
),
value_totals as (
    select grouping(__COLUMNS__) as set_id, __COLUMNS__, count(*) as upheld_items
    from filtered
    group by grouping sets (__SETS__)
),
exploded as (
    select __COLUMNS__, unnest(reasons) as reason
    from filtered
),
counts as (
    select
        grouping(__COLUMNS__) as set_id,
        __VALUE_KEY__ as value_key,
        reason,
        count(*) as upheld_with
    from exploded
    group by grouping sets (__REASON_SETS__)
)
