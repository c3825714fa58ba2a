"""Dev and ops tooling of the freight capability (not shipped to Lambda; functions/freight/ is what ships)."""
