"""Reports read from the store: the numbers (Wilson intervals, paired comparisons), tables, plots, renderings."""
