-- A list axis: an item once per cell (several of its values can fall in one $other cell).
distinct
