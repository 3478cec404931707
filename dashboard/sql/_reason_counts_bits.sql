-- reason_by.sql's counts from the bits of the items' reasons (item_facts.reasons_bits, every
-- reason with a bit of its own: queries.reason_bits), in one pass: the upheld items per value
-- and pattern of reasons (__PATTERN_SETS__: "(category, reasons_bits), ..."), then each
-- value's upheld items (value_totals) its patterns' sum, and each (value, reason)'s (counts)
-- that of its patterns holding the reason's bit. At 4M items by category and drug class under
-- a reason and a guideline source: 61 -> 27 ms against the lists, read twice.
bits as (
    __VALUE_BITS__
),
patterns as (
    select
        grouping(__COLUMNS__) as set_id,
        __COLUMNS__,
        __VALUE_KEY__ as value_key,
        reasons_bits,
        count(*) as n
    from item_facts
    where __FILTERS__ and not overturned
    group by grouping sets (__PATTERN_SETS__)
),
value_totals as (
    select set_id, __COLUMNS__, sum(n) as upheld_items
    from patterns
    group by set_id, __COLUMNS__
),
counts as (
    select patterns.set_id, patterns.value_key, bits.value as reason, sum(patterns.n) as upheld_with
    from patterns
    join bits
        on bits.dimension = 'reason'
        and bits.unique_bit
        and (patterns.reasons_bits & bits.bit) <> 0
    group by patterns.set_id, patterns.value_key, bits.value
)
