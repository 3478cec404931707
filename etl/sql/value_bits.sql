-- The list values new to the dictionary value_bits (etl/warehouse/derived.py, SHARED_BIT as
-- $shared_bit): each the next free bit of its list, the commonest of this batch first; from
-- the 64th value of a list on, all share the last bit. `seen` is one "select '<column>' as
-- list_column, unnest(<column>) as value from <facts>" per list filter (derived.bits_sql).
insert into value_bits
with
seen as (
    __SEEN__
),
counted as (
    select list_column, value, count(*) as n
    from seen
    where value is not null
    group by list_column, value
),
fresh as (
    select * from counted anti join value_bits using (list_column, value)
),
taken as (
    select list_column, count(*) as taken from value_bits group by list_column
)
select
    list_column,
    value,
    least(
        coalesce(taken, 0) + row_number() over (partition by list_column order by n desc, value) - 1,
        $shared_bit
    )::utinyint as bit
from fresh
left join taken using (list_column)
