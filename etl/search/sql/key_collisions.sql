-- Items sharing a key under $salt: 0 keeps the keys one per item.
select count(*) - count(distinct hash(letter_id, item_no, $salt::integer)) as collisions
from decisions
