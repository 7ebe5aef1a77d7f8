"""Status callbacks: an agency's URL that intake POSTs each status change of its reports to.

`service.py` keeps the registrations and queues deliveries, `delivery.py` sends them,
`views.py` is the `/v1/callback` API and `tasks.py` the Celery task that retries them.
"""
