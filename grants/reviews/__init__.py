"""Review: panels, conflicts of interest, assignments, online scoring, normalised ranking."""
