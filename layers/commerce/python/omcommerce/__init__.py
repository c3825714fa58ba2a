"""Commerce domain layer (``layers/commerce/python``): the rules several capabilities share — stock, the order
state machine, cache keys — written once. Plain functions over an ``omdb`` transaction; nothing here knows HTTP."""
