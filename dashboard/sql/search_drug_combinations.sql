-- Items holding every ingredient of each combination ("acetaminophen + hydrocodone": Norco),
-- over the whole warehouse: the Drug filter's combination options and their counts.
with
combination as (
    select value, string_split(value, ' + ') as parts
    from (select unnest($combinations::varchar[]) as value)
),
several as (
    select drugs from item_facts where len(drugs) >= 2
)
select combination.value, count(*) as n
from combination
join several on list_has_all(several.drugs, combination.parts)
group by combination.value
order by n desc, combination.value
