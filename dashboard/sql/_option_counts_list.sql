-- Items per value of one list column (__COLUMN__ of dimension __NAME__) under __CONDITION__ (the
-- filters, or true).
select '__NAME__' as dimension, value, count(*) as n
from (select unnest(__COLUMN__)::varchar as value from item_facts where __CONDITION__)
group by value
