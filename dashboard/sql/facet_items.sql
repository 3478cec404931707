-- The items per value of $dimension in the facet_counts mart (none: not in the mart): what
-- queries.slice_bound adds up for a selection.
select value, items from facet_counts where dimension = $dimension
