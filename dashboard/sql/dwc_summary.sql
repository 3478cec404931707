-- DWC's index beside our parse: how many of DWC's letters are here, and how many of those
-- have as many items as DWC lists (only those are compared item by item).
with
__DWC_IN_BOTH__
select
    (select count(*) from dwc_cases) as dwc_letters,
    (select count(*) from dwc) as dwc_items,
    (select count(*) from in_both) as letters_in_both,
    (select count(*) from in_both where dwc_items = our_items) as letters_compared,
    (select count(*) from in_both where dwc_items <> our_items) as item_count_mismatches,
    (select count(*) from dwc_cases) - (select count(*) from in_both) as dwc_letters_not_here
