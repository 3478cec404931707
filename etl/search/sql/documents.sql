-- The search index's documents of one slice (document_blocks.sql, build.Slices): one row per
-- disputed item of the slice's letters, with its letter's case summary and diagnoses. Both
-- scans read only the slice's row ids. $all: every letter; otherwise only those in
-- changed_letters (a temporary table of the build). The list is read only when it is used: a
-- first build's holds every letter, and matching each slice against it tripled the reads at
-- 4M items (10 -> 34 s). key = hash(letter_id, item_no, $salt): the dashboard computes the
-- same to join matches onto its tables.
with
letter as (
    select letter_id, case_summary, diagnoses
    from letters
    where rowid between $first_letter and $last_letter
        and (
            $all::boolean
            or letter_id in (select letter_id from changed_letters where not $all::boolean)
        )
),
item as (
    select
        letter_id,
        item_no,
        request,
        rationale,
        concat_ws(chr(10), claims_admin_guideline, maximus_guideline) as guidelines,
        coalesce(drugs, []::varchar[]) as drugs,
        category,
        drug_class
    from decisions
    where rowid between $first_item and $last_item
)
select
    hash(item.letter_id, item.item_no, $salt::integer) as key,
    item.letter_id,
    item.item_no,
    item.request,
    item.rationale,
    item.guidelines,
    letter.case_summary,
    letter.diagnoses,
    item.drugs,
    item.category,
    item.drug_class
from item
join letter using (letter_id)
