"""Auth layer (``layers/auth/python``): passwords, JWTs, cookies, refresh sessions, rate limits and route guards."""
