"""Lab 6's exercises."""

EXERCISES: list = []
