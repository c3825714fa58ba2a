"""Dev and ops tooling of the payments capability (not shipped to Lambda; functions/payments/ is what ships)."""
