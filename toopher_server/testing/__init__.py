"""Test helpers of toopher_server: a device that signs like the authenticator app."""

from toopher_server.testing.device import DeviceAuth, DeviceKey, SignedDevice

__all__ = ["DeviceAuth", "DeviceKey", "SignedDevice"]
