-- The Drug filter's combination options ("acetaminophen + hydrocodone": Norco): per combination
-- of the drug vocabulary ($combinations), the items of scope_facts holding every ingredient of
-- it, as the facet of facet_counts.sql, which counts them under the dimension
-- 'drug_combination' (not a registry dimension: the dashboard's Drug filter reads them beside
-- the drug options).
with
combination as (
    select value, string_split(value, ' + ') as parts
    from (select unnest($combinations::varchar[]) as value)
),
several as (
    select drugs, overturned, letter_key, synthetic from scope_facts where len(drugs) >= 2
)
select combination.value, several.overturned, several.letter_key, several.synthetic
from combination
join several on list_has_all(several.drugs, combination.parts)
