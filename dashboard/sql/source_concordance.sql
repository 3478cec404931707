-- How often MAXIMUS cites the same guideline source as the claims administrator, among items
-- where both cited something. Per MAXIMUS source: of the items where MAXIMUS cites it, how many
-- the claims administrator also cited it for. 'All sources': any source in common.
with
filtered as (
    select guideline_sources, claims_admin_sources, same_source_as_claims_admin
    from item_facts
    where __FILTERS__
),
both_cited as (
    select * from filtered where len(guideline_sources) > 0 and len(claims_admin_sources) > 0
),
per_source as (
    select
        source as maximus_source,
        count(*) as n,
        count(*) filter (where list_contains(claims_admin_sources, source))::bigint as same
    from (select unnest(guideline_sources) as source, claims_admin_sources from both_cited)
    group by source
),
overall as (
    select 'All sources' as maximus_source, count(*) as n,
           count(*) filter (where same_source_as_claims_admin)::bigint as same
    from both_cited
),
counts as (
    select * from overall
    union all
    select * from per_source
)
__CONCORDANCE__
