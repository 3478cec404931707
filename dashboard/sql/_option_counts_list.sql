-- Items per value of one list column (__COLUMN__ of dimension __NAME__) of __SOURCE__ (item_facts,
-- or options.sql's filtered_items).
select '__NAME__' as dimension, value, count(*) as n
from (select unnest(__COLUMN__)::varchar as value from __SOURCE__)
group by value
