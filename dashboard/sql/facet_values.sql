-- How many values the facet_counts mart holds for $dimension (0: none, or not in the mart).
select count(*) as n from facet_counts where dimension = $dimension
