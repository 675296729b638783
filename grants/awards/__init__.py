"""Awards: decisions, award offers and acceptance, amendments, milestones, payments and reports."""
