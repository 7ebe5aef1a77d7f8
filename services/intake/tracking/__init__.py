"""Residents follow their own report: by 查询码 on the tracking page, or by SMS reply."""
