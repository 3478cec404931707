-- A list axis: an item once per $other cell (several of its values can fall in one).
distinct
