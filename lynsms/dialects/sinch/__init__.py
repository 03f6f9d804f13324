"""The Sinch SMS REST API ("XMS" v1), as Sinch's own clients call it (API.md §11, §12).

Served under ``/xms/v1/{service_plan_id}/`` with ``Authorization: Bearer``: the service
plan id is the account id, the token a LynSMS API key of that account. A batch is one
native bulk send (its id is the bulk id, ``blk_…``); its messages are the same messages
every other API shows, and its delivery reports POSTed to ``callback_url`` are webhooks.
"""
