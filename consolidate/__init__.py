"""consolidate: a server-consolidation capacity planner."""
