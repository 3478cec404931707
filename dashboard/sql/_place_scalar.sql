-- A scalar axis: the item's one place (_places_scalar.sql), as it is.
__SOURCE__
