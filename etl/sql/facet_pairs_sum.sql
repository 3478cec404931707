-- The facet_pairs mart's rows of the dimensions $dimensions, from the parts the build gathered
-- in pair_parts (etl/warehouse/derived.py): DerivedTables._sum_up sums a few dimensions at a
-- time into the table it created empty, so the sum's hash table holds a share of the mart's
-- rows (the whole mart at once ran a 40 MB build out of memory once its pairs counted the
-- letters of each outcome). Its counts are every column of the parts but the keys
-- (PAIR_MEASURES), each a sum.
insert into facet_pairs
select
    dimension,
    value,
    other,
    other_value,
    sum(columns(* exclude (dimension, value, other, other_value)))::bigint
from pair_parts
where dimension in (select unnest($dimensions::varchar[]))
group by dimension, value, other, other_value
having sum(items) > 0
