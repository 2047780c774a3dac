"""The pure domain: models, policy, calendars, clocks, permissions and the rules of every action.

Nothing in here performs I/O or reads the time; callers pass "now" in.
"""
