"""The LightningMSG SMS API (seed 003), as its own clients call it (API.md §11, §12).

Served under ``/api/v1/sms_services/sms/``: six ``POST`` operations whose body is
form-encoded or JSON, authenticated with ``X-Api-Key`` (a LynSMS API key) and the
account's ``secret_code`` (``lynsms accounts secret ACCOUNT_ID``). Sends go through the
native send path, so a message is the same message every other API shows; its webhooks
are native endpoints created with ``format: "lightningmsg"``.
"""
