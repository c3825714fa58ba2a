"""Dev and ops tooling of the catalogue capability (not shipped to Lambda; functions/catalogue/ is what ships)."""
