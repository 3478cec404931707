-- The items among a cross-tab's pairs when both axes are scalar: each item is one pair.
count(*)
