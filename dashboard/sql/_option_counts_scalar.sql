-- Items per value of several scalar columns under __CONDITION__ (the filters, or true), in one
-- pass: one grouping set per column (__SETS__: "(category), (drug_class), ..."), each column
-- then as text under its dimension's name (__CASTS__: "category::varchar as category, ..."),
-- and one (dimension, value) row per group: unpivot drops the other columns' NULLs, and a NULL
-- value is no option. Registry constants only.
select dimension, value, n
from (
    unpivot (
        select __CASTS__, n
        from (
            select __COLUMNS__, count(*) as n
            from item_facts
            where __CONDITION__
            group by grouping sets (__SETS__)
        )
    )
    on columns(* exclude (n)) into name dimension value value
)
