"""Lab 5's exercises."""

EXERCISES: list = []
