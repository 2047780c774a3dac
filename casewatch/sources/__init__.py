"""Tracker adapters: what a tracker gives (a CSV export, later its API's pages) read into
`core.tracker.Ticket`s. No storage, no UI: the import path decides and writes."""
