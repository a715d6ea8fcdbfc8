"""Lab 3's exercises."""

EXERCISES: list = []
