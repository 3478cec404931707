-- The items per value of $dimension in the facet_counts mart (no row: not in the mart): how
-- many values it has (queries.value_count) and what queries.slice_bound adds up.
select value, items from facet_counts where dimension = $dimension
