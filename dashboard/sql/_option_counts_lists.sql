-- Items per value of several list columns under __CONDITION__ (the filters, or true), in one
-- pass: the lists unnested side by side (__UNNESTS__: "unnest(drugs)::varchar as drug, ...";
-- DuckDB pairs a row's lists element by element and pads the shorter ones with NULL), one
-- grouping set per list (__SETS__: "(drug), (specialty), ..."), and one (dimension, value) row
-- per group: unpivot drops the other columns' NULLs and the padding, and a NULL value is no
-- option. An item counts once under each value its list holds, as in a pass per list, which
-- filtered the items again for each list. Registry constants only.
select dimension, value, n
from (
    unpivot (
        select __NAMES__, count(*) as n
        from (select __UNNESTS__ from item_facts where __CONDITION__)
        group by grouping sets (__SETS__)
    )
    on columns(* exclude (n)) into name dimension value value
)
