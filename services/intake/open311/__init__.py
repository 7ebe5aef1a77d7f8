"""Open311 GeoReport v2 (JSON) on intake, so existing Open311 clients submit and follow reports.

Services are the kinds of report; a service request is a report, stored and validated exactly
as one from `/v1/reports`. `mapping.py` translates both ways, `views.py` serves the HTTP.
"""
