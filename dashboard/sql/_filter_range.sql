-- A range filter on an integer column (items without a value are left out once it is set).
($__MIN__::integer is null or __COLUMN__ >= $__MIN__::integer)
and ($__MAX__::integer is null or __COLUMN__ <= $__MAX__::integer)
