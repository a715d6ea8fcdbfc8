"""Lab 4's exercises."""

EXERCISES: list = []
