"""Applications: joint proposals by a lead organisation and its partners, from draft to screening."""
