"""Registrations: the organisers' import and list, personal links, tickets and check-in."""
