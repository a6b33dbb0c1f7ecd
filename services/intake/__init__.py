"""Intake: takes a resident's request over HTTP and publishes record.requested.v1."""
