"""Other systems' APIs served by the same engine (API.md §11): each dialect translates its
requests onto the services of ``lynsms.messages`` and friends; none has a send path of its own.
"""
