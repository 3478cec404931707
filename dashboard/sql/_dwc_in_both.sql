-- CTEs shared by the dwc_*.sql queries (expanded where they say __DWC_IN_BOTH__): DWC's index
-- rows (dwc), per case (dwc_cases), and the cases present in both with their item counts
-- (in_both). Our letter for a DWC case: the one printing its case number, else the one loaded
-- from the PDF `imr fetch` downloaded for it (letters of 2014-15 print no case number).
dwc as (
    select
        case_number, treatment_no, decision_raw, decision, category_raw, category,
        subcategory_raw, drug_class, letter_sha256
    from dwc_index
),
dwc_cases as (
    select case_number, count(*) as dwc_items, max(letter_sha256) as letter_sha256
    from dwc
    group by case_number
),
-- Our letter for a DWC case: the one printing its case number, else the one loaded from the
-- PDF `imr fetch` downloaded for it (letters of 2014-15 print no case number).
-- Only the case numbers and files DWC lists: grouping every letter cost 500 ms at 1.5 million
-- letters, with DWC's index empty.
by_case_number as (
    select case_number, min(letter_id) as letter_id
    from letters
    where case_number in (select case_number from dwc_cases)
    group by case_number
),
by_file as (
    select source_sha256, min(letter_id) as letter_id
    from sources
    where
        status = 'loaded'
        and letter_id is not null
        and source_sha256 in (select letter_sha256 from dwc_cases)
    group by source_sha256
),
linked as (
    select c.case_number, c.dwc_items, coalesce(n.letter_id, f.letter_id) as letter_id
    from dwc_cases as c
    left join by_case_number as n on n.case_number = c.case_number
    left join by_file as f on f.source_sha256 = c.letter_sha256
),
in_both as (
    select linked.case_number, linked.letter_id, linked.dwc_items, l.item_count as our_items
    from linked
    join letters as l on l.letter_id = linked.letter_id
)
