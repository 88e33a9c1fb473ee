"""Small controllers the review screen delegates to: the scan worker and the pair presence."""
