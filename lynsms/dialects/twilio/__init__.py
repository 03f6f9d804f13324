"""The Twilio Messages API (2010-04-01), as SignalWire offers it (API.md §11, §12).

Served under ``/2010-04-01/Accounts/{AccountSid}/`` with HTTP Basic (the account id as
AccountSid, a LynSMS API key as AuthToken), so that Twilio's own client libraries work
with only their base URL changed. Messages are the same messages as everywhere else:
a message's SID (``sids``) stands for its id, and status callbacks are webhooks.
"""
