"""Dev and ops tooling of the staff_auth capability (not shipped to Lambda; functions/staff_auth/ is what ships)."""
