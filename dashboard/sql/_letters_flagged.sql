-- The distinct letters of a cross-tab cell counted by one flagged item each (crosstab.sql's
-- letter_flag; queries.crosstab_letters says when): a letter's first item when both axes and
-- every filter are the letter's own fields; when one axis is an item's own scalar field, the
-- first item of the letter with its value (item_facts' <column>_fresh), but in that axis's
-- "(other)" cells (__MERGED__), where several of its values meet and a letter could hold two,
-- __OTHER__ (bits or a distinct count of the letters of those cells' rows only).
case when __MERGED__ then __OTHER__ else count(*) filter (where letter_flag) end
