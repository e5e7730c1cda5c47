"""Writes of the send pipeline. Import the functions from their modules."""
