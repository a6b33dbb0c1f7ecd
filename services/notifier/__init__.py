"""Notifier: tells the resident the outcome (card link or not found) by SMS or email."""
