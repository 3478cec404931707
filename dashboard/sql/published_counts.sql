-- What the published DWC / CWCI figures are compared with: items per decision year, category,
-- drug class and decision ('items' rows), and letters per decision year ('letters' rows), under
-- the filters. Items without a decision date are in no year. Letters are counted as
-- queries.letters_count says.
with
filtered as (
    select decision_year, category, drug_class, decision, letter_key
    from item_facts
    where __FILTERS__ and decision_year is not null
),
items as (
    select 'items' as kind, decision_year, category, drug_class, decision, count(*) as n
    from filtered
    group by decision_year, category, drug_class, decision
),
letters as (
    select
        'letters' as kind,
        decision_year,
        null::varchar as category,
        null::varchar as drug_class,
        null::varchar as decision,
        __LETTERS__ as n
    from filtered
    group by decision_year
)
select * from items
union all
select * from letters
order by kind, decision_year, category, drug_class, decision
