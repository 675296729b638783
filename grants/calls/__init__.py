"""Calls: funding opportunities, their rules, application form, rubric, metrics and milestones."""
