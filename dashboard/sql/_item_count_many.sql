-- The items among a cross-tab's pairs when an axis is a list: an item can be several pairs.
count(distinct (letter_key, item_no))
