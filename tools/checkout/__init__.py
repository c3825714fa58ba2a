"""Dev and ops tooling of the checkout capability (not shipped to Lambda; functions/checkout/ is what ships)."""
