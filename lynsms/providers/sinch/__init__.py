"""Sinch SMS REST API ("XMS" v1) adapter."""

from lynsms.providers.sinch.adapter import SinchConfig, SinchProvider

__all__ = ["SinchConfig", "SinchProvider"]
