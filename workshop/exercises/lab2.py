"""Lab 2's exercises."""

EXERCISES: list = []
