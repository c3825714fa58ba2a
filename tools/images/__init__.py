"""Dev and ops tooling of the images capability (not shipped to Lambda; functions/images/ is what ships)."""
