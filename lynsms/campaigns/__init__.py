"""Campaigns (API.md §8, §12): one template or body sent to an audience of contacts."""
